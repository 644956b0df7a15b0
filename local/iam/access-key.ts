/**
 * The access key id a request is signed with: the principal the local endpoints ask IAM about.
 * Signatures are not verified locally (there is no secret to verify them with); the key id alone
 * names the caller, as it does in AWS's own request context.
 */

/** The access key of an `Authorization` header: SigV4 `Credential=AK/date/region/service/aws4_request` or SigV2 `AWS AK:signature`. */
export function accessKeyFromAuthorization(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const v4 = /Credential=([^/,\s]+)\//.exec(header);
  if (v4) return v4[1];
  const v2 = /^AWS ([^:\s]+):/.exec(header);
  return v2 ? v2[1] : undefined;
}

/** The access key of a presigned URL: SigV4 `X-Amz-Credential=AK/…` or SigV2 `AWSAccessKeyId=AK`. */
export function accessKeyFromQuery(query: URLSearchParams): string | undefined {
  const credential = query.get('X-Amz-Credential');
  if (credential) return credential.split('/')[0] || undefined;
  return query.get('AWSAccessKeyId') ?? undefined;
}

/**
 * What a rewrite of a log object must carry over from the version it replaces, beyond its
 * bytes: tags (a copy takes the staged object's, which has none), and server-side encryption
 * (a copy without it takes the bucket's default, which may be another key). Content type,
 * encoding, disposition, language, cache control and user metadata go onto the staged object and
 * are copied from it; the storage class is asked for on the replace.
 */
import { GetObjectTaggingCommand, type GetObjectCommandOutput, type S3Client, type ServerSideEncryption } from '@aws-sdk/client-s3';

/** What a GET or a HEAD of the version replaced tells a rewrite: its headers, version, storage class, encryption, protection. */
export type ObjectHead = Omit<GetObjectCommandOutput, 'Body'>;

export interface PreservedAttributes {
  /** The version's tags as S3's `x-amz-tagging` query string; undefined when it has none. */
  readonly tagging?: string;
  readonly encryption: {
    readonly ServerSideEncryption?: ServerSideEncryption;
    readonly SSEKMSKeyId?: string;
    readonly BucketKeyEnabled?: boolean;
  };
}

/** The content headers and user metadata of the version replaced: the staged object and a multipart replacement are created with them. */
export function contentHeaders(original: ObjectHead) {
  return {
    ContentType: original.ContentType,
    ContentEncoding: original.ContentEncoding,
    ContentDisposition: original.ContentDisposition,
    ContentLanguage: original.ContentLanguage,
    CacheControl: original.CacheControl,
    Metadata: original.Metadata,
  };
}

/** Reads the tags of the version `original` is, and its encryption settings from the GET answer. */
export async function preservedAttributes(s3: S3Client, bucket: string, key: string, original: ObjectHead): Promise<PreservedAttributes> {
  const tags = await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key, ...(original.VersionId ? { VersionId: original.VersionId } : {}) }));
  const set = tags.TagSet ?? [];
  // Percent-encoded (a space as %20, not the form encoding's +), as S3 decodes a query string.
  const tagging = set.length > 0 ? set.map((t) => `${encodeURIComponent(t.Key ?? '')}=${encodeURIComponent(t.Value ?? '')}`).join('&') : undefined;
  // SSE-S3 is what a bucket without a default gets anyway; SSE-KMS names its key.
  const kms = original.ServerSideEncryption === 'aws:kms' || original.ServerSideEncryption === 'aws:kms:dsse';
  return {
    ...(tagging ? { tagging } : {}),
    encryption: {
      ...(original.ServerSideEncryption ? { ServerSideEncryption: original.ServerSideEncryption } : {}),
      ...(kms && original.SSEKMSKeyId ? { SSEKMSKeyId: original.SSEKMSKeyId } : {}),
      ...(kms && original.BucketKeyEnabled !== undefined ? { BucketKeyEnabled: original.BucketKeyEnabled } : {}),
    },
  };
}

/**
 * The contract between the local endpoints (S3, the DynamoDB proxy, Step Functions) and the
 * local IAM check. An endpoint turns each request into what AWS would authorize — one or more
 * (action, resource ARN, condition context) triples, for the principal named by the request's
 * SigV4 access key — and asks the authorizer; a denial is answered with that service's own
 * AccessDenied error, exactly as AWS words it.
 */

/** What one request asks IAM for. A request may need several (CopyObject: read the source, write the target). */
export interface AuthzRequest {
  /** `service:Action`, e.g. `dynamodb:BatchWriteItem`, `s3:GetObjectVersion`. */
  readonly action: string;
  /** The resource ARN, e.g. `arn:aws:s3:::voip-logs/sip/2026/01/01.jsonl.gz`, `arn:aws:dynamodb:us-east-1:000000000000:table/dsr-ledger/index/byStatus`. */
  readonly resource: string;
  /**
   * Condition keys AWS would put in the request context for this action, e.g.
   * `{ 's3:prefix': 'sip/' }`, `{ 'dynamodb:LeadingKeys': ['receipt'] }`. Absent keys are absent.
   */
  readonly context?: Readonly<Record<string, string | readonly string[]>>;
}

export type AuthzDecision =
  | { readonly allowed: true }
  | {
      readonly allowed: false;
      /** The caller's ARN as AWS prints it in the message, e.g. `arn:aws:sts::000000000000:assumed-role/dsr-erase-store/dsr-erase-store`. */
      readonly principalArn: string;
      /** AWS's tail of the message: `because no identity-based policy allows the s3:GetObject action`. */
      readonly reason: string;
    };

/**
 * Decides one request for the principal behind `accessKeyId` (from the SigV4 Credential or a
 * presigned URL's X-Amz-Credential). An unknown access key is denied, as AWS answers
 * InvalidAccessKeyId; the engine's own administrator key is allowed everything.
 */
export type Authorizer = (accessKeyId: string, request: AuthzRequest) => AuthzDecision;

/** Lets every request through: for endpoints started on their own (unit tests of the endpoint itself). */
export const allowAll: Authorizer = () => ({ allowed: true });

/** The standard AccessDenied message text of AWS for a decision. */
export function accessDeniedMessage(request: AuthzRequest, decision: Extract<AuthzDecision, { allowed: false }>): string {
  return `User: ${decision.principalArn} is not authorized to perform: ${request.action} on resource: ${request.resource} ${decision.reason}`;
}

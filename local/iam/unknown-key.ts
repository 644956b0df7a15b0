/**
 * An access key no principal has: AWS refuses it before any policy is read, with each service's
 * own authentication error (S3 InvalidAccessKeyId, DynamoDB and Step Functions
 * UnrecognizedClientException), not AccessDenied. The local authorizer marks such a denial by
 * naming the caller `arn:aws:iam::<account>:access-key/<key id>`.
 */
import type { AuthzDecision } from './types';

export function isUnknownAccessKey(decision: AuthzDecision): boolean {
  return !decision.allowed && /^arn:aws:iam::\d{12}:access-key\//.test(decision.principalArn);
}

/** What DynamoDB and Step Functions answer for it (HTTP 400). */
export const UNRECOGNIZED_CLIENT_MESSAGE = 'The security token included in the request is invalid.';

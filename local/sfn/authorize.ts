/**
 * IAM on every Step Functions call: `states:<Operation>` on the state machine or execution ARN
 * the request names (ListStateMachines on the account's state machine wildcard), asked before
 * the operation runs; a denial is the 400 AccessDeniedException the SDK v3 and the CLI parse.
 */
import { accessKeyFromAuthorization } from '../iam/access-key';
import { accessDeniedMessage, type AuthzRequest, type Authorizer } from '../iam/types';
import { isUnknownAccessKey, UNRECOGNIZED_CLIENT_MESSAGE } from '../iam/unknown-key';
import { ACCOUNT_ID } from './model';
import type { OperationName } from './operations';
import { SfnError } from './protocol';

/** The ARN field each operation is authorized on. */
const RESOURCE_FIELD: Record<OperationName, 'stateMachineArn' | 'executionArn' | 'mapRunArn' | undefined> = {
  DescribeMapRun: 'mapRunArn',
  UpdateMapRun: 'mapRunArn',
  ListMapRuns: 'executionArn',
  StartExecution: 'stateMachineArn',
  DescribeExecution: 'executionArn',
  GetExecutionHistory: 'executionArn',
  ListExecutions: 'stateMachineArn',
  StopExecution: 'executionArn',
  DescribeStateMachine: 'stateMachineArn',
  DescribeStateMachineForExecution: 'executionArn',
  ListStateMachines: undefined,
};

export function sfnRequest(operation: OperationName, body: unknown, region: string): AuthzRequest {
  // ListExecutions of a Map Run's children is authorized on the Map Run ARN, as on AWS.
  const field = operation === 'ListExecutions' && typeof body === 'object' && body !== null && 'mapRunArn' in body ? 'mapRunArn' : RESOURCE_FIELD[operation];
  const value = field && typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[field] : undefined;
  // A missing or malformed ARN is the operation's own ValidationException/InvalidArn, after IAM.
  const resource = typeof value === 'string' && value !== '' ? value : `arn:aws:states:${region}:${ACCOUNT_ID}:stateMachine:*`;
  return { action: `states:${operation}`, resource };
}

/** Throws AccessDeniedException unless the request's caller may run the operation. */
export function authorizeSfn(authorize: Authorizer, authorization: string | undefined, operation: OperationName, body: unknown, region: string): void {
  const request = sfnRequest(operation, body, region);
  const decision = authorize(accessKeyFromAuthorization(authorization) ?? '', request);
  if (decision.allowed) return;
  if (isUnknownAccessKey(decision)) throw new SfnError('UnrecognizedClientException', UNRECOGNIZED_CLIENT_MESSAGE);
  throw new SfnError('AccessDeniedException', accessDeniedMessage(request, decision));
}

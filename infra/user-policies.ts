/**
 * Managed policies for the people around the product: support runs the `dsr` CLI (start, plan,
 * approve, status, hold, history), auditors read execution history and receipts. Built with the
 * resources' own grant methods through a grantee that writes into a managed policy.
 */
import { ArnFormat, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import type { WildcardGrant } from './nag';

/** Lets `grant*` methods write into a managed policy (which is not a principal itself). */
export class PolicyGrantee implements iam.IPrincipal {
  readonly grantPrincipal: iam.IPrincipal = this;
  readonly assumeRoleAction = 'sts:AssumeRole';
  readonly principalAccount: string | undefined;

  constructor(readonly policy: iam.ManagedPolicy) {
    this.principalAccount = Stack.of(policy).account;
  }

  /**
   * Grants always land in the policy (addToPrincipalPolicy never declines), so no resource
   * policy names this; the account is the truthful answer to "whose principals".
   */
  get policyFragment(): iam.PrincipalPolicyFragment {
    return new iam.AccountPrincipal(this.principalAccount).policyFragment;
  }

  addToPolicy(statement: iam.PolicyStatement): boolean {
    return this.addToPrincipalPolicy(statement).statementAdded;
  }

  addToPrincipalPolicy(statement: iam.PolicyStatement): iam.AddToPrincipalPolicyResult {
    this.policy.addStatements(statement);
    return { statementAdded: true, policyDependable: this.policy };
  }
}

export interface UserPolicyResources {
  readonly machines: readonly sfn.StateMachine[];
  readonly ledger: dynamodb.Table;
  readonly bundleBucket: s3.Bucket;
  /** Collects the wildcard ARNs granted, for their cdk-nag acknowledgement. */
  readonly wildcards: WildcardGrant[];
}

/** Every execution of a machine: executions are named by request id, unknown in advance. */
export function executionsArn(machine: sfn.StateMachine): string {
  return Stack.of(machine).formatArn({ service: 'states', resource: 'execution', resourceName: `${machine.stateMachineName}:*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
}

/** Reads executions: their list, their state and their history. */
function grantHistory(grantee: PolicyGrantee, r: UserPolicyResources): void {
  for (const machine of r.machines) {
    machine.grant(grantee, 'states:ListExecutions', 'states:DescribeStateMachine');
    const arn = executionsArn(machine);
    iam.Grant.addToPrincipal({ grantee, actions: ['states:DescribeExecution', 'states:GetExecutionHistory'], resourceArns: [arn] });
    r.wildcards.push({ scope: grantee.policy, arn, reason: 'Executions of this state machine only; execution names are request ids, unknown until a request starts.' });
  }
}

export function supportPolicy(scope: Construct, id: string, r: UserPolicyResources): iam.ManagedPolicy {
  const policy = new iam.ManagedPolicy(scope, id, {
    description: 'Subject Rights Orchestrator support: dsr start/plan/approve/status/hold/sweep/history; no deletes, no work-bucket access',
  });
  const grantee = new PolicyGrantee(policy);
  for (const machine of r.machines) machine.grantStartExecution(grantee);
  grantHistory(grantee, r);
  // Requests, approvals, holds: put and conditional update; never delete (receipts chain).
  r.ledger.grants.actions(grantee, 'dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:ConditionCheckItem');
  r.ledger.grantOnKey(grantee, 'kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey');
  // Presigned bundle and report URLs are signed with the support principal's own access.
  for (const prefix of ['bundles/*', 'reports/*']) {
    r.bundleBucket.grants.actionsOnObjectKeys(grantee, prefix, 's3:GetObject', 'kms:Decrypt');
    r.wildcards.push({ scope: policy, arn: r.bundleBucket.arnForObjects(prefix), reason: `Bundles and access reports are one object per request under ${prefix.slice(0, -1)}; read only, to hand out presigned URLs.` });
  }
  return policy;
}

/** The ledger partition receipts live in (functions/core/receipt.ts): auditors read nothing else. */
export const RECEIPT_PARTITION = 'receipt';

export function auditorPolicy(scope: Construct, id: string, r: UserPolicyResources): iam.ManagedPolicy {
  const policy = new iam.ManagedPolicy(scope, id, {
    description: 'Subject Rights Orchestrator auditors: execution history and the receipt chain, read only',
  });
  const grantee = new PolicyGrantee(policy);
  grantHistory(grantee, r);
  // Request items hold the subject id: only the receipt partition, by leading key.
  const grant = r.ledger.grants.actions(grantee, 'dynamodb:GetItem', 'dynamodb:Query');
  grant.principalStatements.forEach((s) => s.addCondition('ForAllValues:StringEquals', { 'dynamodb:LeadingKeys': [RECEIPT_PARTITION] }));
  r.ledger.grantOnKey(grantee, 'kms:Decrypt', 'kms:DescribeKey');
  return policy;
}

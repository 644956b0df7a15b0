/**
 * Managed policies for the people around the product: support runs the `dsr` CLI (start, plan,
 * approve, status, hold, history), auditors read execution history and receipts. Their
 * statements are infra/policies.ts's, rendered as they are; only the key grant is CDK's.
 *
 * The names are stable and predictable (`<prefix>-support`, `<prefix>-auditor`) so an IAM
 * Identity Center permission set can reference them as customer managed policies, by name, in
 * every account the stack is deployed to.
 */
import { ArnFormat, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import type { WildcardGrant } from './nag';
import type { PrincipalPolicy } from './policies';

/** Lets `grant*` methods (the store keys') write into a managed policy (which is not a principal itself). */
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

/** Every execution of a machine: executions are named by request id, unknown in advance. */
export function executionsArn(machine: sfn.StateMachine): string {
  return Stack.of(machine).formatArn({ service: 'states', resource: 'execution', resourceName: `${machine.stateMachineName}:*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
}

/** The child executions of the machine's Distributed Map runs (`…:execution:<name>/<label>:<id>`). */
export function mapRunChildrenArn(machine: sfn.StateMachine): string {
  return Stack.of(machine).formatArn({ service: 'states', resource: 'execution', resourceName: `${machine.stateMachineName}/*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
}

/** Renders model statements into a role's or a policy's document, one CDK statement each. */
export function renderStatements(policy: PrincipalPolicy, add: (statement: iam.PolicyStatement) => void, holder: Construct, wildcards: WildcardGrant[]): void {
  for (const s of policy.statements) add(iam.PolicyStatement.fromJson(s));
  for (const w of policy.wildcards) wildcards.push({ scope: holder, arn: w.arn, reason: w.reason });
}

export interface UserPolicyOptions {
  readonly managedPolicyName: string;
  readonly description: string;
  readonly policy: PrincipalPolicy;
  /** The product key and what the people need of it (no KMS locally: a CDK grant). */
  readonly key: kms.IKey;
  readonly keyActions: readonly string[];
  /** Collects the wildcard ARNs granted, for their cdk-nag acknowledgement. */
  readonly wildcards: WildcardGrant[];
}

export function userPolicy(scope: Construct, id: string, opts: UserPolicyOptions): iam.ManagedPolicy {
  const managed = new iam.ManagedPolicy(scope, id, { managedPolicyName: opts.managedPolicyName, description: opts.description });
  renderStatements(opts.policy, (s) => managed.addStatements(s), managed, opts.wildcards);
  managed.addStatements(new iam.PolicyStatement({ sid: 'ProductKey', actions: [...opts.keyActions], resources: [opts.key.keyArn] }));
  return managed;
}

/** A name IAM accepts for a managed policy: `[\w+=,.@-]`, at most 128 characters. */
export function managedPolicyName(prefix: string, suffix: string): string {
  const name = `${prefix}-${suffix}`;
  if (!Token.isUnresolved(name) && !/^[\w+=,.@-]{1,128}$/.test(name)) {
    throw new Error(`managed policy name "${name}": use letters, digits and +=,.@_- only, at most 128 characters (set managedPolicyNamePrefix)`);
  }
  return name;
}

/** The default prefix: the stack's name and the construct's id, so two deployments in one account never collide. */
export function defaultPolicyNamePrefix(scope: Construct, id: string): string {
  const stackName = Stack.of(scope).stackName;
  return `${stackName}-${id}`.replace(/[^\w+=,.@-]/g, '-').slice(0, 110);
}

/**
 * Identity Center owns its `AWSReservedSSO_*` roles and replaces whatever else is attached to
 * them; a permission set references the customer managed policy by name instead.
 */
export function refuseIdentityCenterRole(role: iam.IRole, policyName: string): void {
  const reserved = /AWSReservedSSO_|aws-reserved\/sso\.amazonaws\.com\//;
  if ([role.roleName, role.roleArn].some((v) => !Token.isUnresolved(v) && reserved.test(v))) {
    throw new Error(
      `role ${role.roleName} is an IAM Identity Center role (AWSReservedSSO_*): Identity Center manages its policies and would drop this attachment; add the customer managed policy "${policyName}" to the permission set instead`,
    );
  }
}

export function attachUserPolicy(policy: iam.ManagedPolicy, policyName: string, grantee: iam.IRole | iam.IUser | iam.IGroup): void {
  if ('roleArn' in grantee) {
    refuseIdentityCenterRole(grantee, policyName);
    policy.attachToRole(grantee);
  } else if ('userArn' in grantee) {
    policy.attachToUser(grantee);
  } else {
    policy.attachToGroup(grantee);
  }
}

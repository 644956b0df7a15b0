/**
 * The local engine's IAM: every principal of the product (each Task function's role, each
 * state machine's role, support, auditors) with the policy infra/policies.ts gives it, rendered
 * with the local ARNs, and the engine's own administrator key, allowed everything. A principal
 * signs with a deterministic access key id — its IAM role name in camel case (`dsr-erase-store`
 * signs as `dsrEraseStore`, `dsr-support` as `dsrSupport`): access key ids are alphanumeric on
 * AWS, and DynamoDB Local refuses any other (UnrecognizedClientException).
 */
import type { DataMap } from '../../functions/core/datamap';
import type { Settings } from '../../functions/core/config';
import { HANDLERS, localFunctionArn } from '../../functions/handlers/registry';
import { allPolicies, ROLE_NAMES, type MachineId, type PolicyArns, type PrincipalPolicy } from '../../infra/policies';
import { evaluate, type IamStatement } from './evaluate';
import type { Authorizer, AuthzDecision, AuthzRequest } from './types';

export const LOCAL_ACCOUNT_ID = '000000000000';
/** The engine's administrator key (LOCAL_CREDENTIALS of local/engine.ts): seeding, the demo's setup, the `aws` CLI. */
export const ADMIN_ACCESS_KEY_ID = 'local';

/** The people who use the `dsr` CLI with a role of their own (`dsr --as`). */
export const PEOPLE = { support: ROLE_NAMES.support, auditor: ROLE_NAMES.auditor } as const;
export type Person = keyof typeof PEOPLE;

export interface LocalCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** A role's local access key id: `dsr-erase-store` → `dsrEraseStore`. */
export function localAccessKeyId(roleName: string): string {
  return roleName.replace(/[^A-Za-z0-9]+([A-Za-z0-9])/g, (_m, c: string) => c.toUpperCase()).replace(/[^A-Za-z0-9]/g, '');
}

/** A principal's local credentials (the local endpoints check no signature, only who signed). */
export function localCredentialsFor(roleName: string): LocalCredentials {
  return { accessKeyId: localAccessKeyId(roleName), secretAccessKey: `${localAccessKeyId(roleName)}LocalSecret` };
}

/** The local credentials a Task function runs with (handler id of functions/handlers/registry.ts). */
export function handlerCredentials(handlerId: string): LocalCredentials {
  return localCredentialsFor(ROLE_NAMES.handler(handlerId));
}

export function personCredentials(person: Person): LocalCredentials {
  return localCredentialsFor(PEOPLE[person]);
}

export interface LocalAuthorizerOptions {
  readonly dataMap: DataMap;
  readonly settings: Pick<Settings, 'ledgerTable' | 'workBucket' | 'bundleBucket'>;
  readonly region: string;
  readonly accountId?: string;
  /** The local state machines' names by id (local/engine.ts STATE_MACHINES); `dsr-<id>` by default. */
  readonly stateMachineNames?: Readonly<Record<MachineId, string>>;
  /**
   * Replaces a principal's policy (by role name): how a test shows that the check can fail,
   * e.g. a function whose policy lacks an action its handler needs.
   */
  readonly override?: (roleName: string, policy: PrincipalPolicy) => PrincipalPolicy;
  /** Told of every denial (the engine keeps them for `RunningEngine.denials`). */
  readonly onDenied?: (accessKeyId: string, request: AuthzRequest, decision: Extract<AuthzDecision, { allowed: false }>) => void;
}

/** The local ARNs of the product's resources and the data map's stores, as AWS would write them. */
export function localPolicyArns(opts: Pick<LocalAuthorizerOptions, 'settings' | 'region' | 'accountId' | 'stateMachineNames'>): PolicyArns {
  const account = opts.accountId ?? LOCAL_ACCOUNT_ID;
  const table = (name: string) => `arn:aws:dynamodb:${opts.region}:${account}:table/${name}`;
  const bucket = (name: string) => `arn:aws:s3:::${name}`;
  const machine = (id: MachineId) => {
    const name = opts.stateMachineNames?.[id] ?? `dsr-${id}`;
    return { arn: `arn:aws:states:${opts.region}:${account}:stateMachine:${name}`, executions: `arn:aws:states:${opts.region}:${account}:execution:${name}:*`, mapRunChildren: `arn:aws:states:${opts.region}:${account}:execution:${name}/*` };
  };
  return {
    ledgerTable: table(opts.settings.ledgerTable),
    workBucket: bucket(opts.settings.workBucket),
    bundleBucket: bucket(opts.settings.bundleBucket),
    storeTable: table,
    storeBucket: bucket,
    machines: { 'subject-request': machine('subject-request'), 'retention-sweep': machine('retention-sweep'), 'log-erasure': machine('log-erasure'), 'retention-enforcement': machine('retention-enforcement') },
    functions: Object.fromEntries(HANDLERS.map((h) => [h.id, localFunctionArn(opts.region, h.id)])),
  };
}

/** Every principal's local policy by access key id. */
export function localPolicies(opts: LocalAuthorizerOptions): Map<string, { readonly roleName: string; readonly policy: PrincipalPolicy }> {
  const policies = allPolicies(opts.dataMap, HANDLERS, localPolicyArns(opts));
  const byKey = new Map<string, { roleName: string; policy: PrincipalPolicy }>();
  for (const [roleName, policy] of policies) byKey.set(localAccessKeyId(roleName), { roleName, policy: opts.override ? opts.override(roleName, policy) : policy });
  return byKey;
}

export function createLocalAuthorizer(opts: LocalAuthorizerOptions): Authorizer {
  const account = opts.accountId ?? LOCAL_ACCOUNT_ID;
  const policies = localPolicies(opts);
  const decide = (accessKeyId: string, request: AuthzRequest): AuthzDecision => {
    if (accessKeyId === ADMIN_ACCESS_KEY_ID) return { allowed: true };
    const principal = policies.get(accessKeyId);
    if (!principal) {
      return {
        allowed: false,
        principalArn: `arn:aws:iam::${account}:access-key/${accessKeyId}`,
        reason: 'because the AWS access key id does not exist in our records',
      };
    }
    const result = evaluate(principal.policy.statements as readonly IamStatement[], request);
    if (result.decision === 'allow') return { allowed: true };
    // Lambda's session name is the function name; people's sessions are named after their role here.
    const principalArn = `arn:aws:sts::${account}:assumed-role/${principal.roleName}/${principal.roleName}`;
    return {
      allowed: false,
      principalArn,
      reason: result.decision === 'explicit-deny' ? 'with an explicit deny in an identity-based policy' : `because no identity-based policy allows the ${request.action} action`,
    };
  };
  return (accessKeyId, request) => {
    const decision = decide(accessKeyId, request);
    if (!decision.allowed) opts.onDenied?.(accessKeyId, request, decision);
    return decision;
  };
}

/** A policy without `action` in any of its statements (a test's override: the check must then deny it). */
export function withoutAction(policy: PrincipalPolicy, action: string): PrincipalPolicy {
  return {
    ...policy,
    statements: policy.statements.map((s) => ({ ...s, Action: s.Action.filter((a) => a.toLowerCase() !== action.toLowerCase()) })).filter((s) => s.Action.length > 0),
  };
}

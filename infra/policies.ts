/**
 * The IAM policy of every principal, as IAM JSON: each Task function's role, the support and
 * auditor people, and each state machine's role. One description, read twice: the construct
 * renders exactly these statements (with CDK tokens as ARNs), and the local engine evaluates
 * every SDK call against them (with the local ARNs). Pure: no CDK import.
 *
 * KMS is not here: key grants stay CDK grants in the construct, from `productKeyActions` and
 * the store keys (the data map does not know the keys). The local S3 does ask for KMS
 * permissions on SSE-KMS objects (local/s3/kms.ts), so a local store written under a customer
 * managed key is refused to every role until its grant is given to the local authorizer too
 * (test/connectors/s3-records-kms-grants.test.ts adds it by override). Log and X-Ray grants stay CDK's.
 */
import type { DataMap } from '../functions/core/datamap';
import { DEADLINE_INDEX } from '../functions/core/deadlines';
import { RETENTION_REQUESTS_PK } from '../functions/core/enforcement-subjects';
import type { HandlerSpec } from '../functions/handlers/registry';
import { HANDLER_ACCESS, storeGrants, writes, type HandlerAccess, type StoreGrant, type StoreResource } from './access';

export type MachineId = HandlerSpec['machine'];

export interface PolicyStatementJson {
  /** Unique in its policy; it also keeps CDK's policy minimization from merging statements, so the template says exactly this. */
  readonly Sid: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Action: readonly string[];
  readonly Resource: readonly string[];
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>>;
}

export interface PrincipalPolicy {
  readonly statements: readonly PolicyStatementJson[];
  /** Each wildcard resource and why no narrower ARN exists (the cdk-nag acknowledgements). */
  readonly wildcards: readonly { readonly arn: string; readonly reason: string }[];
}

/** The ARNs a function's statements name: CDK tokens in the construct, literal ARNs locally. */
export interface ProductArns {
  readonly ledgerTable: string;
  readonly workBucket: string;
  readonly bundleBucket: string;
  /** Operator stores by the names the data map gives them. */
  readonly storeTable: (table: string) => string;
  readonly storeBucket: (bucket: string) => string;
  /** The machines, where known when the function's policy is made (a handler that starts executions needs them). */
  readonly machines?: Readonly<Partial<Record<MachineId, { readonly arn: string; readonly executions: string }>>>;
}

/** And those of the people's and the machines' statements, which exist once the functions and machines do. */
export interface PolicyArns extends ProductArns {
  /**
   * Each machine's ARN, the pattern of its executions' ARNs (`…:execution:<name>:*`) and of its
   * Map Runs' child executions (`…:execution:<name>/*`).
   */
  readonly machines: Readonly<Record<MachineId, MachineArns>>;
  /** Function ARNs by handler id (what the machine roles invoke). */
  readonly functions: Readonly<Record<string, string>>;
}

export interface MachineArns {
  readonly arn: string;
  readonly executions: string;
  readonly mapRunChildren: string;
}

/** The ledger partition receipts live in (functions/core/receipt.ts): auditors read nothing else. */
export const RECEIPT_PARTITION = 'receipt';

const MACHINE_IDS: readonly MachineId[] = ['subject-request', 'retention-sweep', 'log-erasure', 'retention-enforcement'];

/** The IAM role (or, for people, the permission set) name of each principal; locally also its access key id. */
export const ROLE_NAMES = {
  handler: (id: string) => `dsr-${id}`,
  machine: (id: MachineId) => `dsr-${id}-machine`,
  support: 'dsr-support',
  auditor: 'dsr-auditor',
} as const;

class PolicyBuilder {
  readonly statements: PolicyStatementJson[] = [];
  readonly wildcards: { arn: string; reason: string }[] = [];

  allow(sid: string, actions: readonly string[], resources: readonly string[], condition?: PolicyStatementJson['Condition']): this {
    if (this.statements.some((s) => s.Sid === sid)) throw new Error(`policy statement ${sid} twice`);
    this.statements.push({ Sid: sid, Effect: 'Allow', Action: [...actions].sort(), Resource: [...resources], ...(condition ? { Condition: condition } : {}) });
    return this;
  }

  wildcard(arn: string, reason: string): this {
    this.wildcards.push({ arn, reason });
    return this;
  }

  build(): PrincipalPolicy {
    return { statements: this.statements, wildcards: this.wildcards };
  }
}

const objects = (bucketArn: string, pattern: string) => `${bucketArn}/${pattern}`;

/** The ledger's deadline index (functions/core/deadlines.ts). */
export function ledgerIndexArn(ledgerTable: string): string {
  return `${ledgerTable}/index/${DEADLINE_INDEX.name}`;
}

/** A Task function's role: the ledger, the work and bundle buckets, and the operator's stores, as its access profile says. */
export function handlerPolicy(id: string, dataMap: DataMap, arns: ProductArns): PrincipalPolicy {
  const access = HANDLER_ACCESS[id];
  if (!access) throw new Error(`handler ${id} has no access profile in infra/access.ts: decide what it may touch before deploying it`);
  const p = new PolicyBuilder();
  if (access.ledger.length > 0) p.allow('Ledger', access.ledger, [arns.ledgerTable]);
  if (access.deadlineIndex) p.allow('LedgerDeadlines', ['dynamodb:Query'], [ledgerIndexArn(arns.ledgerTable)]);
  const workReason = (prefix: string) => `The work bucket's ${prefix} documents, one set per request id, unknown in advance.`;
  const work = (prefixes: readonly string[]) => prefixes.map((prefix) => objects(arns.workBucket, `${prefix}*`));
  for (const [sid, prefixes, actions] of [
    ['WorkRead', access.work.read, ['s3:GetObject']],
    ['WorkWrite', access.work.write, ['s3:PutObject', 's3:AbortMultipartUpload']],
    ['WorkPurge', access.work.purge ?? [], ['s3:DeleteObjectVersion']],
  ] as const) {
    if (prefixes.length === 0) continue;
    p.allow(sid, actions, work(prefixes));
    prefixes.forEach((prefix) => p.wildcard(objects(arns.workBucket, `${prefix}*`), workReason(prefix)));
  }
  // Without ListBucket a missing document is a 403, not the NoSuchKey the workspace expects.
  if (access.work.read.length > 0) p.allow('WorkList', ['s3:ListBucket'], [arns.workBucket]);
  if (access.work.purge?.length) {
    p.allow('WorkListVersions', ['s3:ListBucketVersions'], [arns.workBucket], { StringLike: { 's3:prefix': access.work.purge.map((prefix) => `${prefix}*`) } });
  }
  if (access.bundles === 'write') {
    // Bundles stream up as multipart uploads: a failed one must be abortable.
    p.allow('Bundles', ['s3:PutObject', 's3:AbortMultipartUpload'], [objects(arns.bundleBucket, 'bundles/*'), objects(arns.bundleBucket, 'reports/*')]);
    for (const prefix of ['bundles/', 'reports/']) p.wildcard(objects(arns.bundleBucket, `${prefix}*`), `One bundle or report per request id under ${prefix.slice(0, -1)}, written once.`);
  }
  if (access.stores.length > 0) addStoreGrants(p, storeGrants(dataMap, access.stores), arns);
  for (const st of machineStatements(id, arns)) p.allow(st.Sid, st.Action, st.Resource);
  return p.build();
}

/**
 * A handler that starts or lists executions (retention enforcement starts erasures, and looks
 * for running access requests): those actions on exactly those machines. Empty where the
 * machines are not known yet: the construct adds them once they exist (the function is not
 * part of the machines it starts, so no cycle).
 */
export function machineStatements(id: string, arns: Pick<ProductArns, 'machines'>): PolicyStatementJson[] {
  const wanted = HANDLER_ACCESS[id]?.machines ?? {};
  const out: PolicyStatementJson[] = [];
  for (const [sid, action, ids] of [['StartExecutions', 'states:StartExecution', wanted.start ?? []], ['ListExecutions', 'states:ListExecutions', wanted.list ?? []]] as const) {
    const machines = ids.map((m) => arns.machines?.[m]?.arn);
    if (ids.length === 0 || machines.some((m) => m === undefined)) continue;
    out.push({ Sid: sid, Effect: 'Allow', Action: [action], Resource: machines as string[] });
  }
  return out;
}

/** The data map's stores: exactly the actions, tables, indexes, buckets and key patterns store-grants.ts derived. */
function addStoreGrants(p: PolicyBuilder, grants: readonly StoreGrant[], arns: ProductArns): void {
  grants.forEach((grant, i) => {
    const resources = grant.resources.map((r) => storeArn(r, arns));
    grant.resources.forEach((r, j) => {
      if (r.type === 'objects') p.wildcard(resources[j], `Objects of data map store(s) ${grant.stores.join(', ')} under ${r.pattern}: one key prefix per subject, so no narrower ARN exists.`);
    });
    p.allow(`Stores${i + 1}`, grant.actions, resources, grant.prefixes ? { StringLike: { 's3:prefix': [...grant.prefixes] } } : undefined);
  });
}

export function storeArn(r: StoreResource, arns: ProductArns): string {
  switch (r.type) {
    case 'table':
      return arns.storeTable(r.table);
    case 'index':
      return `${arns.storeTable(r.table)}/index/${r.index}`;
    case 'bucket':
      return arns.storeBucket(r.bucket);
    case 'objects':
      return objects(arns.storeBucket(r.bucket), r.pattern);
  }
}

/** Reads executions: their list, their state and their history. */
function addHistory(p: PolicyBuilder, arns: PolicyArns, startable: boolean): void {
  const machines = MACHINE_IDS.map((m) => arns.machines[m]);
  p.allow('Machines', ['states:ListExecutions', 'states:DescribeStateMachine', ...(startable ? ['states:StartExecution'] : [])], machines.map((m) => m.arn));
  p.allow('Executions', ['states:DescribeExecution', 'states:GetExecutionHistory'], machines.map((m) => m.executions));
  for (const m of machines) p.wildcard(m.executions, 'Executions of this state machine only; execution names are request ids, unknown until a request starts.');
}

/** Support staff with the `dsr` CLI: start/plan/approve/status/hold/sweep/history; no deletes, no work-bucket access. */
export function supportPolicy(dataMap: DataMap, arns: PolicyArns): PrincipalPolicy {
  const p = new PolicyBuilder();
  addHistory(p, arns, true);
  // Requests, approvals, holds, rectification receipts: put and conditional update; never delete (receipts chain).
  p.allow('Ledger', ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:ConditionCheckItem'], [arns.ledgerTable]);
  // `dsr requests`: the deadline index (its projection holds no subject id).
  p.allow('LedgerDeadlines', ['dynamodb:Query'], [ledgerIndexArn(arns.ledgerTable)]);
  // Presigned bundle and report URLs are signed with the support principal's own access.
  p.allow('Bundles', ['s3:GetObject'], [objects(arns.bundleBucket, 'bundles/*'), objects(arns.bundleBucket, 'reports/*')]);
  for (const prefix of ['bundles/', 'reports/']) {
    p.wildcard(objects(arns.bundleBucket, `${prefix}*`), `Bundles and access reports are one object per request under ${prefix.slice(0, -1)}; read only, to hand out presigned URLs.`);
  }
  // `dsr hold place --subject` resolves the subject's identity itself: read-only, as resolve-identity.
  addStoreGrants(p, storeGrants(dataMap, ['identity']), arns);
  return p.build();
}

/**
 * Auditors: execution history and the receipt chain, read only. Request items hold the subject
 * id, so the ledger is readable in two partitions only (by leading key): the receipts (a
 * request's receipt is found through its pointer there, functions/core/receipt.ts) and the
 * requests retention enforcement started (ids, limits and bases: the retention report); and
 * the deadline index, whose projection holds no subject id (the console's request list).
 */
export function auditorPolicy(arns: PolicyArns): PrincipalPolicy {
  const p = new PolicyBuilder();
  addHistory(p, arns, false);
  p.allow('Receipts', ['dynamodb:GetItem', 'dynamodb:Query'], [arns.ledgerTable], { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [RECEIPT_PARTITION, RETENTION_REQUESTS_PK] } });
  p.allow('LedgerDeadlines', ['dynamodb:Query'], [ledgerIndexArn(arns.ledgerTable)]);
  return p.build();
}

/**
 * Where each machine's Distributed Map reads its manifest and writes its results, and why the
 * ARN is a pattern: the log-erasure pass under `log-passes/<passId>/`, a request's fanned-out
 * log stores under `requests/<requestId>/log-scan/<execution>/` (functions/core/log-scan.ts).
 */
const MAP_RUN_OBJECTS: Partial<Record<MachineId, { readonly manifest: string; readonly results: string; readonly reason: string }>> = {
  'log-erasure': { manifest: 'log-passes/*', results: 'log-passes/*', reason: 'The log-erasure passes\' manifests and Map Run results: one prefix per pass, named at run time.' },
  'subject-request': {
    manifest: 'requests/*/log-scan/*/manifest.jsonl',
    results: 'requests/*/log-scan/*/map-run/*',
    reason: 'A request\'s fanned-out log stores: their manifest and Map Run results, one prefix per request and execution, named at run time.',
  },
};

/**
 * What a Distributed Map needs of its machine's role (AWS: "IAM policies for Distributed Map
 * states"): start its own child executions, follow and stop them, read the manifest its
 * ItemReader names and write what its ResultWriter writes, under its own prefix only.
 */
function distributedMapStatements(p: PolicyBuilder, machine: MachineArns, workBucket: string, objectsOf: { manifest: string; results: string; reason: string }): void {
  p.allow('MapRunStart', ['states:StartExecution'], [machine.arn]);
  const children = machine.mapRunChildren;
  p.allow('MapRunChildren', ['states:DescribeExecution', 'states:StopExecution'], [children]);
  p.wildcard(children, 'Child executions of this machine\'s own Map Runs: their names are made by Step Functions.');
  const manifest = objects(workBucket, objectsOf.manifest);
  const results = objects(workBucket, objectsOf.results);
  p.allow('MapRunManifest', ['s3:GetObject'], [manifest]);
  p.allow('MapRunResults', ['s3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'], [results]);
  for (const arn of new Set([manifest, results])) p.wildcard(arn, objectsOf.reason);
}

/** The machines with a Distributed Map (the construct renders their Map Run statements as a policy of their own). */
export const MAP_RUN_MACHINES = Object.keys(MAP_RUN_OBJECTS) as MachineId[];

/** A state machine's role: invoke exactly its Task functions, unqualified (the ASL calls those ARNs; no `:*` versions). */
export function machinePolicy(machine: MachineId, handlerIds: readonly string[], arns: PolicyArns): PrincipalPolicy {
  const p = new PolicyBuilder();
  p.allow('Invoke', ['lambda:InvokeFunction'], handlerIds.map((id) => arns.functions[id]));
  const mapRun = MAP_RUN_OBJECTS[machine];
  if (mapRun) distributedMapStatements(p, arns.machines[machine], arns.workBucket, mapRun);
  return p.build();
}

/** The product key's actions a function needs for its ledger and bucket access (a CDK grant: no KMS locally). */
export function productKeyActions(access: HandlerAccess): string[] {
  const actions = new Set<string>();
  if (access.ledger.length > 0) {
    ['kms:Decrypt', 'kms:DescribeKey'].forEach((a) => actions.add(a));
    if (writes(access.ledger)) ['kms:Encrypt', 'kms:GenerateDataKey'].forEach((a) => actions.add(a));
  }
  if (access.work.read.length > 0) actions.add('kms:Decrypt');
  if (access.work.write.length > 0 || access.bundles === 'write') ['kms:Decrypt', 'kms:GenerateDataKey'].forEach((a) => actions.add(a));
  return [...actions].sort();
}

/** Every principal's policy, by role name: what the local engine enforces. */
export function allPolicies(dataMap: DataMap, handlers: readonly Pick<HandlerSpec, 'id' | 'machine'>[], arns: PolicyArns): Map<string, PrincipalPolicy> {
  const policies = new Map<string, PrincipalPolicy>();
  for (const h of handlers) policies.set(ROLE_NAMES.handler(h.id), handlerPolicy(h.id, dataMap, arns));
  for (const m of MACHINE_IDS) policies.set(ROLE_NAMES.machine(m), machinePolicy(m, handlers.filter((h) => h.machine === m).map((h) => h.id), arns));
  policies.set(ROLE_NAMES.support, supportPolicy(dataMap, arns));
  policies.set(ROLE_NAMES.auditor, auditorPolicy(arns));
  return policies;
}

/**
 * Least privilege, derived from the data map. Each Task handler has an access profile (what it
 * does with the product's own ledger and buckets, and which operation it runs against the
 * operator's stores); each store entry says which actions that operation needs, on which
 * table, index, bucket or key pattern. Pure data, no CDK: infra/policies.ts turns it into IAM
 * statements (which the construct renders and the local engine enforces), and a test can read
 * it as the table it is.
 */
import type { DataMap, DynamoDbStore, S3ObjectsStore, S3RecordsStore, Store } from '../functions/core/datamap';
import { isIdentitySource } from '../functions/core/identity';

type MachineName = 'subject-request' | 'retention-sweep' | 'retention-enforcement';

/** What a handler does against the operator's stores. */
export type StoreOperation =
  /** Identity resolution: the owner lookups of the DynamoDB stores that yield identifiers. */
  | 'identity'
  /** Discovery and verification: finds the subject's records. */
  | 'discover'
  /** Retention decisions: reads the hold flags of the subject's own records. */
  | 'holds'
  /** Export: reads the records and files discovery found. */
  | 'export'
  /** Erasure: deletes, anonymizes, redacts mentions, restricts held records. */
  | 'erase'
  /** Restriction: marks records restricted. */
  | 'restrict'
  /** Consent withdrawal and objection: sets the consent attributes of the subject's own items in the stores the data map's purposes name. */
  | 'consent'
  /** Retention enforcement: lists subjects by the subject dates' indexes (functions/core/enforcement-subjects.ts). */
  | 'subject-dates'
  /** Retention enforcement: finds records past their limit (date index or Scan), deletes them, and discovers held subjects there (enforcement-purge.ts). */
  | 'expire';

export interface HandlerAccess {
  /** DynamoDB actions on the ledger table. */
  readonly ledger: readonly string[];
  /**
   * Work bucket key prefixes it reads and writes (`requests/` of running requests, `deferred/`
   * identities), and those whose every version it lists and deletes (a kept identity, once its
   * sweeps are done).
   */
  readonly work: { readonly read: readonly string[]; readonly write: readonly string[]; readonly purge?: readonly string[] };
  /** The bundle bucket's `bundles/` and `reports/`. */
  readonly bundles: 'none' | 'write';
  /** What it does against the operator's stores. */
  readonly stores: readonly StoreOperation[];
  /** Builds a connector context, which needs the anonymization key. */
  readonly anonymizer: boolean;
  /** Queries the ledger's deadline index (requests by due date). */
  readonly deadlineIndex?: boolean;
  /** State machines it starts executions of (`states:StartExecution`), and whose executions it lists (`states:ListExecutions`). */
  readonly machines?: { readonly start?: readonly MachineName[]; readonly list?: readonly MachineName[] };
}

const LEDGER_READ = ['dynamodb:GetItem', 'dynamodb:Query'];
// Receipts are appended with TransactWriteItems, which IAM authorizes per item action.
const LEDGER_WRITE = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:ConditionCheckItem'];
const LEDGER_RW = [...LEDGER_READ, ...LEDGER_WRITE];

const REQUESTS = 'requests/';
const DEFERRED = 'deferred/';
/** The batched log-erasure pass: its manifest, work units, unit results and (until it finishes) the identities it erases. */
export const LOG_PASSES = 'log-passes/';
const NONE = { read: [], write: [] };
const READ = { read: [REQUESTS], write: [] };
const READ_WRITE = { read: [REQUESTS], write: [REQUESTS] };

/**
 * One entry per handler id of functions/handlers/registry.ts, read from the handler's code.
 * A handler without an entry fails synth: a new handler's access is a decision, not a default.
 */
export const HANDLER_ACCESS: Readonly<Record<string, HandlerAccess>> = {
  'validate-request': { ledger: LEDGER_RW, work: NONE, bundles: 'none', stores: [], anonymizer: false },
  'resolve-identity': { ledger: LEDGER_RW, work: { read: [REQUESTS, DEFERRED], write: [REQUESTS] }, bundles: 'none', stores: ['identity'], anonymizer: true },
  // Reads the request's type: an erasure queues a big log store for the pass instead of scanning it.
  'discover-store': { ledger: ['dynamodb:GetItem'], work: READ_WRITE, bundles: 'none', stores: ['discover'], anonymizer: true },
  // Fanned-out log stores (functions/core/log-scan.ts): joins the stores' manifests; reads the units' findings into each store's findings document.
  'begin-log-scan': { ledger: [], work: READ_WRITE, bundles: 'none', stores: [], anonymizer: false },
  // One work unit: the request's identity and the unit's keys in, the unit's findings out.
  'scan-log-unit': { ledger: [], work: READ_WRITE, bundles: 'none', stores: ['discover'], anonymizer: true },
  'collect-log-findings': { ledger: [], work: READ_WRITE, bundles: 'none', stores: [], anonymizer: false },
  'apply-retention': { ledger: LEDGER_RW, work: READ_WRITE, bundles: 'none', stores: ['holds'], anonymizer: false },
  'load-approved-plan': { ledger: LEDGER_RW, work: READ, bundles: 'none', stores: [], anonymizer: false },
  // Destructive actions first take an erasure lease in the ledger (functions/core/erasure-lock.ts).
  // It also keeps the identity under deferred/ before the first erasure, for a resume (functions/core/resume.ts).
  'erase-store': { ledger: LEDGER_RW, work: { read: [REQUESTS], write: [REQUESTS, DEFERRED] }, bundles: 'none', stores: ['erase'], anonymizer: true },
  'restrict-store': { ledger: LEDGER_RW, work: READ_WRITE, bundles: 'none', stores: ['restrict'], anonymizer: true },
  // Reads the request (its purposes and cancel flag), sets consent attributes, keeps each place's outcome under requests/; the key HMACs the before/after values.
  'apply-consent': { ledger: ['dynamodb:GetItem'], work: READ_WRITE, bundles: 'none', stores: ['consent'], anonymizer: true },
  'export-store': { ledger: [], work: READ_WRITE, bundles: 'none', stores: ['export'], anonymizer: true },
  'assemble-export': { ledger: [], work: READ, bundles: 'write', stores: [], anonymizer: false },
  'verify-erasure': { ledger: [], work: READ, bundles: 'none', stores: ['discover'], anonymizer: true },
  // Keeps the resolved identity under deferred/ for the sweep (no lifecycle expiry there);
  // the deferred entries go in 25 at a time (functions/core/deferred.ts: BatchWriteItem).
  'schedule-deferred': { ledger: ['dynamodb:BatchWriteItem', 'dynamodb:GetItem'], work: { read: [REQUESTS], write: [DEFERRED] }, bundles: 'none', stores: [], anonymizer: false },
  // Deletes every version of the identity kept under deferred/ once a request is completed with nothing deferred.
  'write-receipt': { ledger: LEDGER_RW, work: { read: [REQUESTS], write: [], purge: [DEFERRED] }, bundles: 'none', stores: [], anonymizer: false },
  // Marks the request failed and releases its erasure leases; for a cancel, appends the
  // `cancelled` receipt from what each finished store left under applied/ (functions/core/cancel.ts),
  // and deletes every version of the identity kept under deferred/ when a new request can find the subject again.
  'record-failure': { ledger: LEDGER_RW, work: { read: [REQUESTS], write: [], purge: [DEFERRED] }, bundles: 'none', stores: [], anonymizer: false },
  // Retention sweep: the due entries (Query), and the page cursor where the last run stopped (GetItem, PutItem).
  // Also the deadline check: open requests by due date, from the ledger's deadline index.
  'find-due-deferrals': { ledger: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query'], work: NONE, bundles: 'none', stores: [], anonymizer: false, deadlineIndex: true },
  // Rediscovers, re-checks hold flags, erases what is now due, reschedules the rest.
  'erase-due-entry': { ledger: LEDGER_RW, work: { read: [DEFERRED], write: [] }, bundles: 'none', stores: ['discover', 'holds', 'erase'], anonymizer: true },
  // Log-erasure pass: takes the queue and leases (TransactWriteItems: per-item actions), checks holds, lists the log stores into work units.
  'begin-log-pass': { ledger: LEDGER_RW, work: { read: [DEFERRED, LOG_PASSES], write: [LOG_PASSES] }, bundles: 'none', stores: ['discover', 'holds'], anonymizer: true },
  // One work unit: re-reads the subjects' hold versions (BatchGetItem, 100 lock items a call), discovers and erases every subject of the pass in the unit's objects.
  'erase-log-unit': { ledger: ['dynamodb:BatchGetItem'], work: { read: [LOG_PASSES], write: [LOG_PASSES] }, bundles: 'none', stores: ['discover', 'erase'], anonymizer: true },
  // Receipts, queue entries, leases, deferred entries (BatchWriteItem); deletes the pass's identities and the kept ones no entry waits on.
  'finish-log-pass': { ledger: [...LEDGER_RW, 'dynamodb:BatchWriteItem'], work: { read: [LOG_PASSES], write: [LOG_PASSES], purge: [LOG_PASSES, DEFERRED] }, bundles: 'none', stores: [], anonymizer: false },
  // Appends the receipts, then deletes every version of a kept identity no entry waits on any more.
  'write-sweep-receipts': { ledger: LEDGER_RW, work: { read: [], write: [], purge: [DEFERRED] }, bundles: 'none', stores: [], anonymizer: false },
  // Retention enforcement. Pending access requests: the subject's partition of the ledger (functions/core/pending-requests.ts).
  'plan-enforcement': { ledger: [], work: NONE, bundles: 'none', stores: [], anonymizer: false },
  // Request ids are HMACs under the anonymization key; the requests go in the ledger and their executions are started here.
  'start-retention-erasures': { ledger: LEDGER_RW, work: NONE, bundles: 'none', stores: ['subject-dates'], anonymizer: true, machines: { start: ['subject-request'] } },
  // Resolves held subjects and those with pending access requests (found through the deadline index) and discovers them
  // in the purged store, reads the owners' hold flags, then deletes the rest; the Scan cursor and the unit's lease stay in the ledger.
  'purge-expired-records': { ledger: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query'], work: NONE, bundles: 'none', stores: ['identity', 'holds', 'expire'], anonymizer: true, deadlineIndex: true },
  'write-enforcement-receipt': { ledger: LEDGER_RW, work: NONE, bundles: 'none', stores: [], anonymizer: false },
};

/** Where the s3-records connector stages rewritten objects, in the store's own bucket (its `stagingPrefix` default). */
export const S3_RECORDS_STAGING_PREFIX = '.dsr-rewrite/';

/** A resource of an operator store, by the name the data map gives it. */
export type StoreResource =
  | { readonly type: 'table'; readonly table: string }
  | { readonly type: 'index'; readonly table: string; readonly index: string }
  | { readonly type: 'bucket'; readonly bucket: string }
  | { readonly type: 'objects'; readonly bucket: string; readonly pattern: string };

/** One IAM statement's worth: these actions on these resources (bucket-level list actions limited to `prefixes`). */
export interface StoreGrant {
  readonly actions: readonly string[];
  readonly resources: readonly StoreResource[];
  /** `s3:prefix` patterns (StringLike) a list action is limited to; absent = the whole bucket. */
  readonly prefixes?: readonly string[];
  /** The data map stores the grant serves. */
  readonly stores: readonly string[];
}

const S3_LIST = ['s3:ListBucket', 's3:ListBucketVersions'];
const S3_READ_OBJECTS = ['s3:GetObject', 's3:GetObjectVersion'];
const S3_PROTECTION = ['s3:GetObjectLegalHold', 's3:GetObjectRetention'];
const S3_READ_TAGS = ['s3:GetObjectTagging', 's3:GetObjectVersionTagging'];
const S3_WRITE_TAGS = ['s3:PutObjectTagging', 's3:PutObjectVersionTagging'];

interface Need {
  readonly store: string;
  readonly actions: readonly string[];
  readonly resource: StoreResource;
  readonly prefix?: string;
}

/** The grants `operations` need on the stores of `dataMap`, merged into as few statements as their actions allow. */
export function storeGrants(dataMap: DataMap, operations: readonly StoreOperation[]): StoreGrant[] {
  const consentStores = new Set(Object.values(dataMap.purposes).flatMap((p) => p.consentAt.map((c) => c.store)));
  // Consent is set only in the stores a purpose names; every other operation reads the whole map.
  const needs = operations.flatMap((operation) => dataMap.stores.filter((s) => operation !== 'consent' || consentStores.has(s.name)).flatMap((store) => storeNeeds(store, operation)));
  return merge(needs);
}

/** Identity resolution (functions/core/identity.ts) runs the owner lookups of the stores that yield identifiers. */
export function takesPartInIdentity(store: DynamoDbStore): boolean {
  return isIdentitySource(store);
}

function storeNeeds(store: Store, operation: StoreOperation): Need[] {
  switch (store.kind) {
    case 'dynamodb':
      return dynamoNeeds(store, operation);
    case 's3-objects':
      return s3ObjectsNeeds(store, operation);
    case 's3-records':
      return s3RecordsNeeds(store, operation);
  }
}

function dynamoNeeds(store: DynamoDbStore, operation: StoreOperation): Need[] {
  const table = { type: 'table', table: store.table } as const;
  const on = (actions: string[], resource: StoreResource = table): Need => ({ store: store.name, actions, resource });
  const describe = on(['dynamodb:DescribeTable']);
  switch (operation) {
    case 'identity':
    case 'discover': {
      if (operation === 'identity' && !takesPartInIdentity(store)) return [];
      // Identity resolution follows owner records only; discovery runs every lookup.
      const lookups = operation === 'identity' ? store.lookups.filter((l) => l.role === 'owner') : store.lookups;
      const indexes = unique(lookups.flatMap((l) => (l.index ? [l.index] : [])));
      const needs = [describe];
      if (lookups.some((l) => !l.index && l.attribute === store.key.partitionKey)) needs.push(on(['dynamodb:Query']));
      for (const index of indexes) needs.push(on(['dynamodb:Query'], { type: 'index', table: store.table, index }));
      // Index hits whose projection lacks attributes discovery reads are fetched whole.
      if (indexes.length > 0) needs.push(on(['dynamodb:BatchGetItem']));
      // A lookup that is neither the partition key nor an index is a Scan, and only with allowScan.
      if (store.allowScan && lookups.some((l) => !l.index && l.attribute !== store.key.partitionKey)) needs.push(on(['dynamodb:Scan']));
      return needs;
    }
    case 'holds':
      return Object.keys(store.holdFlags).length > 0 ? [on(['dynamodb:GetItem'])] : [];
    case 'export':
      return [describe, on(['dynamodb:BatchGetItem'])];
    case 'erase': {
      // Held and retained records are restricted (UpdateItem) whatever the erase mode.
      const needs = [describe, on(['dynamodb:UpdateItem'])];
      if (store.erase.mode === 'delete') needs.push(on(['dynamodb:BatchWriteItem']));
      // Anonymizing and redacting mentions read the item first.
      if (store.erase.mode === 'anonymize' || store.thirdParty) needs.push(on(['dynamodb:GetItem', 'dynamodb:BatchGetItem']));
      return needs;
    }
    case 'restrict':
      return [describe, on(['dynamodb:UpdateItem'])];
    // A consistent Query of the partition key, a conditional UpdateItem, a GetItem when the value changed under it.
    case 'consent':
      return [describe, on(['dynamodb:Query', 'dynamodb:UpdateItem', 'dynamodb:GetItem'])];
    case 'subject-dates':
      return Object.values(store.subjectDates).map((d) => on(['dynamodb:Query'], { type: 'index', table: store.table, index: d.index }));
    case 'expire': {
      if (!store.expiry) return [];
      const find = store.expiry.method === 'index' ? on(['dynamodb:Query'], { type: 'index', table: store.table, index: store.expiry.index }) : on(['dynamodb:Scan']);
      // Held subjects' records are found as discovery finds them, so they can be kept.
      return [find, on(['dynamodb:BatchWriteItem']), ...dynamoNeeds(store, 'discover')];
    }
  }
}

/** `recordings/{accountId}/` → `recordings/*\/*`: the keys of every subject, and nothing outside the template. */
export function keyPattern(prefixOrTemplate: string): string {
  return `${prefixOrTemplate.replace(/\{[^{}]*\}/g, '*')}*`.replace(/\*+/g, '*');
}

function s3ObjectsNeeds(store: S3ObjectsStore, operation: StoreOperation): Need[] {
  const pattern = keyPattern(store.keyTemplate);
  const bucket = { type: 'bucket', bucket: store.bucket } as const;
  const objects = { type: 'objects', bucket: store.bucket, pattern } as const;
  const list: Need = { store: store.name, actions: S3_LIST, resource: bucket, prefix: pattern };
  const on = (actions: string[]): Need => ({ store: store.name, actions, resource: objects });
  switch (operation) {
    case 'identity':
    case 'holds':
    case 'subject-dates':
    case 'expire':
    case 'consent':
      return [];
    case 'discover':
      return [list, on([...S3_READ_OBJECTS, ...S3_PROTECTION, ...S3_READ_TAGS])];
    case 'export':
      // Listing lets a version deleted since discovery read as 404 (reported missing), not 403.
      return [list, on(S3_READ_OBJECTS)];
    case 'erase':
      return [
        list,
        on([...S3_READ_OBJECTS, ...S3_PROTECTION, ...S3_READ_TAGS, ...S3_WRITE_TAGS]),
        // Every version and delete marker goes, by version id; never a bare DeleteObject.
        ...(store.erase.mode === 'delete' ? [on(['s3:DeleteObjectVersion'])] : []),
      ];
    case 'restrict':
      return [list, on([...S3_READ_OBJECTS, ...S3_PROTECTION, ...S3_READ_TAGS, ...S3_WRITE_TAGS])];
  }
}

function s3RecordsNeeds(store: S3RecordsStore, operation: StoreOperation): Need[] {
  const pattern = keyPattern(store.prefix);
  const staging = keyPattern(S3_RECORDS_STAGING_PREFIX);
  const bucket = { type: 'bucket', bucket: store.bucket } as const;
  const objects = (p: string) => ({ type: 'objects', bucket: store.bucket, pattern: p }) as const;
  const wholeBucket = store.prefix === '';
  const list = (actions: string[], prefix: string): Need => ({ store: store.name, actions, resource: bucket, ...(wholeBucket ? {} : { prefix }) });
  const on = (actions: string[], p = pattern): Need => ({ store: store.name, actions, resource: objects(p) });
  switch (operation) {
    case 'identity':
    case 'holds':
    case 'subject-dates':
    case 'expire':
    case 'consent':
      return [];
    case 'discover':
      // Noncurrent versions (older copies, objects under a delete marker) hold records too.
      return [list(S3_LIST, pattern), on([...S3_READ_OBJECTS, ...S3_PROTECTION])];
    case 'export':
      return [list(S3_LIST, pattern), on(S3_READ_OBJECTS)];
    case 'restrict':
      // Records inside an object cannot be marked: restrictions are counted, nothing is written.
      return [list(S3_LIST, pattern), on(S3_READ_OBJECTS)];
    case 'erase': {
      // Rewrite: stage the object without the subject's records, verify, replace, remove old versions.
      // The replacement carries the replaced version's tags (read them, set them on the copy).
      const rewrite = [...S3_READ_OBJECTS, ...S3_PROTECTION, ...S3_READ_TAGS, ...S3_WRITE_TAGS, 's3:PutObject', 's3:AbortMultipartUpload', 's3:DeleteObjectVersion'];
      return [
        list(S3_LIST, pattern),
        { store: store.name, actions: S3_LIST, resource: bucket, prefix: staging },
        on(rewrite),
        on(rewrite, staging),
      ];
    }
  }
}

function resourceKey(r: StoreResource): string {
  return JSON.stringify(r);
}

/**
 * Merges needs into statements: object and table needs with the same action set share one
 * statement; list needs are per bucket with the union of their prefixes (a bucket-wide need
 * drops the condition for that bucket).
 */
function merge(needs: readonly Need[]): StoreGrant[] {
  // Per resource: the union of actions, and (for buckets) the prefixes.
  const perResource = new Map<string, { resource: StoreResource; actions: Set<string>; prefixes: Set<string> | null; stores: Set<string> }>();
  for (const need of needs) {
    const key = resourceKey(need.resource);
    let entry = perResource.get(key);
    if (!entry) {
      entry = { resource: need.resource, actions: new Set(), prefixes: new Set(), stores: new Set() };
      perResource.set(key, entry);
    }
    need.actions.forEach((a) => entry.actions.add(a));
    entry.stores.add(need.store);
    if (need.resource.type === 'bucket') {
      if (need.prefix === undefined) entry.prefixes = null;
      else entry.prefixes?.add(need.prefix);
    }
  }
  const grants = new Map<string, { actions: string[]; resources: StoreResource[]; prefixes?: string[]; stores: Set<string> }>();
  for (const entry of perResource.values()) {
    const actions = [...entry.actions].sort();
    const prefixes = entry.resource.type === 'bucket' && entry.prefixes ? [...entry.prefixes].sort() : undefined;
    // Buckets keep one statement each (their condition is theirs); the rest group by action set.
    const key = entry.resource.type === 'bucket' ? `bucket:${resourceKey(entry.resource)}` : `actions:${actions.join(',')}`;
    let grant = grants.get(key);
    if (!grant) {
      grant = { actions, resources: [], ...(prefixes ? { prefixes } : {}), stores: new Set() };
      grants.set(key, grant);
    }
    grant.resources.push(entry.resource);
    entry.stores.forEach((s) => grant.stores.add(s));
  }
  return [...grants.values()].map((g) => ({ actions: g.actions, resources: g.resources, ...(g.prefixes ? { prefixes: g.prefixes } : {}), stores: [...g.stores].sort() }));
}

function unique<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}

/** Whether any action writes (the resource's KMS key then needs encrypt as well as decrypt). */
export function writes(actions: readonly string[]): boolean {
  return actions.some((a) => /^(dynamodb:(PutItem|UpdateItem|DeleteItem|BatchWriteItem)|s3:(PutObject|DeleteObjectVersion|AbortMultipartUpload))$/.test(a));
}

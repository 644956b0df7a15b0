/**
 * Least privilege, derived from the data map. Each Task handler has an access profile (what it
 * does with the product's own ledger and buckets, and which operation it runs against the
 * operator's stores): the table below. Which actions an operation needs on which table, index,
 * bucket or key pattern is each store kind's (dynamodb-needs.ts, s3-needs.ts), merged into
 * grants by store-grants.ts. Pure data, no CDK: infra/policies.ts turns it into IAM statements
 * (which the construct renders and the local engine enforces), and a test can read it as the
 * table it is.
 */
import type { StoreOperation } from './store-needs';

// Re-exported: `infra/access` stays the one place importers take least privilege from.
export type { StoreOperation, StoreResource } from './store-needs';
export { storeGrants, writes, type StoreGrant } from './store-grants';
export { takesPartInIdentity } from './dynamodb-needs';
export { keyPattern, S3_RECORDS_STAGING_PREFIX } from './s3-needs';

type MachineName = 'subject-request' | 'retention-sweep' | 'retention-enforcement';

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

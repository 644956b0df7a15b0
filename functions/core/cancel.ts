/**
 * Cancelling a request (`dsr cancel`), cooperatively. Step Functions' StopExecution ends an
 * execution wherever it is, a Lambda half-way through rewriting a log object included (the
 * invocation runs on; its result is dropped, and nothing records what it did). So a cancel
 * is a flag on the request (`cancelRequested`) that the Task handlers read between units of
 * work: before planning, before each store's erasure or restriction, before the deferrals
 * are scheduled. A store whose erasure has begun is finished (every object in it either
 * untouched or fully rewritten: the connector's own write, verify, replace); a store not begun
 * is left untouched. The handler that sees the flag throws RequestCancelled; the machine's
 * Catch takes it to RecordFailure, which writes the `cancelled` receipt (what each store had
 * done, in counts), releases the leases and ends the request `cancelled`. A request that is
 * not running (awaiting approval, rejected, planned) is cancelled by the CLI directly: no
 * execution runs, so none needs stopping. Nothing of the request is scheduled for the sweep,
 * so a new request of the same subject finishes the job later; where the stores that identity
 * resolution reads were already erased, no new request can find the subject, and `dsr resume`
 * finishes it with the identity the request kept (settleKeptIdentity).
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ApplyResult } from '../connectors/types';
import { consentPlacesDone } from './consent-progress';
import { ANSWERED, reasonHash } from './deadlines';
import { releaseErasureLeases } from './erasure-lock';
import { isIdentitySource } from './identity';
import { queuedStoresOf } from './log-pass-route';
import { DsrError, InvalidInputError } from './errors';
import type { RequestRecord, RequestStatus } from './ledger';
import { isConsentType } from './purposes';
import { appendReceipt, type StoredReceipt } from './receipt';
import { docKeys } from './request-data';
import type { Runtime } from './runtime';
import { forgetIdentityWhenDone } from './sweep';

/** The change id of the cancellation (one per request) and the receipt's `change`. */
export const CANCELLED = 'cancelled';

/** The name Step Functions matches: the request was cancelled between units of work. */
export class RequestCancelledError extends DsrError {
  constructor(requestId: string) {
    super(`request ${requestId} was cancelled; stopped between units of work`, { requestId });
    this.name = 'RequestCancelled';
  }
}

/** A cancel that is not possible (the request is already answered). */
export class CancelRefusedError extends DsrError {
  constructor(message: string) {
    super(message);
    this.name = 'CancelRefused';
  }
}

type Ctx = Pick<Runtime, 'dynamodb' | 'ledger'>;

/** The check a Task handler makes between units of work. */
export function throwIfCancelled(record: RequestRecord | undefined): void {
  if (record?.cancelRequested) throw new RequestCancelledError(record.request.requestId);
}

/**
 * Sets the flag (with the reason in the ledger, its hash beside it). Conditional on the
 * request not being answered; setting it again keeps the first one.
 */
export async function requestCancel(rt: Ctx, record: RequestRecord, reason: string, now: Date): Promise<RequestRecord['cancelRequested']> {
  const { requestId } = record.request;
  if (record.cancelRequested) return record.cancelRequested;
  if (ANSWERED.has(record.status)) throw new CancelRefusedError(`request ${requestId} is ${record.status}: an answered request cannot be cancelled`);
  const flag = { at: now.toISOString(), reasonHash: reasonHash(requestId, CANCELLED, reason) };
  try {
    await DynamoDBDocumentClient.from(rt.dynamodb).send(
      new UpdateCommand({
        TableName: rt.ledger.table,
        Key: { pk: `request#${requestId}`, sk: 'request' },
        UpdateExpression: 'SET cancelRequested = :flag, cancelReason = :reason',
        ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(cancelRequested) AND NOT (#status IN (:c, :r, :x))',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':flag': flag, ':reason': reason, ':c': 'completed', ':r': 'refused', ':x': 'cancelled' },
      }),
    );
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) throw new CancelRefusedError(`request ${requestId} changed meanwhile (answered, or cancelled by someone else); look at dsr status ${requestId}`);
    throw err;
  }
  return flag;
}

export interface CancelledStore {
  readonly store: string;
  /** `done`: its erasure finished before the cancel was seen (counts say what); `untouched`: not begun. */
  readonly state: 'done' | 'untouched' | 'queued';
  readonly counts: Record<string, number>;
}

/**
 * The `cancelled` receipt, and the request's end: per store what was already done (from the
 * documents each finished store leaves), leases released, status `cancelled`. Idempotent: a
 * retry finds the receipt by its pointer and ends the same way.
 */
export async function recordCancellation(
  rt: Runtime,
  record: RequestRecord,
  opts: { now: Date; stores?: readonly string[] },
): Promise<StoredReceipt> {
  const { requestId } = record.request;
  if (!record.cancelRequested) throw new InvalidInputError(`request ${requestId} has no cancel requested`);
  const names = opts.stores ?? rt.config.dataMap.stores.map((s) => s.name);
  const stores: CancelledStore[] = [];
  // A log store queued for the batched pass before the cancel was seen: the pass erases it (its queue is the pass's).
  const queued = new Set((await queuedStoresOf(rt, requestId, { includeDone: true })).map((q) => q.store));
  // Only a run that reached its plan may have applied anything; otherwise every store is untouched.
  for (const store of names) {
    if (queued.has(store)) {
      stores.push({ store, state: 'queued', counts: {} });
      continue;
    }
    const applied = record.planHash ? await rt.workspace.getJson<ApplyResult>(docKeys.applied(requestId, store)) : undefined;
    stores.push(applied ? { store, state: 'done', counts: { ...applied.applied, refused: applied.refused.length, missing: applied.missing.length } } : { store, state: 'untouched', counts: {} });
  }
  // A withdrawal or objection writes places, not store plans: which were done before the cancel.
  const consentPlaces = isConsentType(record.request.type) ? await consentPlacesDone(rt, requestId, record.request.purposes ?? [], rt.config.dataMap.purposes) : undefined;
  const identity = await settleKeptIdentity(rt, requestId, stores);
  const receipt = await cancelledReceipt(rt, record, stores, opts.now, { consentPlaces, identity });
  await releaseErasureLeases(rt, record.request.subjectId, names, requestId);
  await rt.ledger.setStatus(requestId, 'cancelled', opts.now, { receiptKey: `receipt/${receipt.sequence}`, reason: CANCELLED });
  return receipt;
}

/**
 * The identity kept under deferred/ before the first erasure (resume.ts) is personal data with
 * one purpose: reaching the subject when the records identity resolution reads are erased. If
 * none of them was (their stores untouched, or finished with those records kept), a new request resolves the subject afresh and finishes the job, so every
 * version of the copy is deleted (as the sweep does once nothing is pending: forgetIdentityWhenDone,
 * which also keeps it while a log store is queued for the pass). If one was, the copy stays
 * for `dsr resume`, the only way left to the rest; the receipt says which.
 */
async function settleKeptIdentity(rt: Runtime, requestId: string, stores: readonly CancelledStore[]): Promise<'deleted' | 'kept-for-resume'> {
  const sources = new Set(rt.config.dataMap.stores.filter(isIdentitySource).map((s) => s.name));
  // A finished source store whose records stayed (held: an account flagged for investigation) still finds the subject.
  const erased = (s: CancelledStore) => (s.counts.delete ?? 0) + (s.counts.anonymize ?? 0) > 0;
  if (stores.some((s) => s.state === 'done' && sources.has(s.store) && erased(s))) return 'kept-for-resume';
  return (await forgetIdentityWhenDone(rt, requestId, { unlessFailed: false })) ? 'deleted' : 'kept-for-resume';
}

/** The receipt alone (the CLI's path for a request no execution runs: nothing was applied). */
export function cancelledReceipt(
  rt: Ctx,
  record: RequestRecord,
  stores: readonly CancelledStore[],
  now: Date,
  extra: { readonly consentPlaces?: readonly unknown[]; readonly identity?: 'deleted' | 'kept-for-resume' } = {},
): Promise<StoredReceipt> {
  const { consentPlaces, identity } = extra;
  const { requestId } = record.request;
  return appendReceipt(rt, {
    receiptVersion: 1,
    kind: 'change',
    id: CANCELLED,
    requestId,
    type: record.request.type,
    change: CANCELLED,
    outcome: 'cancelled',
    statusWhenCancelled: record.status,
    planHash: record.planHash ?? null,
    reasonHash: record.cancelRequested?.reasonHash ?? null,
    requestedAt: record.cancelRequested?.at ?? null,
    stores: Object.fromEntries(stores.map((s) => [s.store, { state: s.state, ...s.counts }])),
    storesDone: stores.filter((s) => s.state === 'done').length,
    storesUntouched: stores.filter((s) => s.state === 'untouched').length,
    storesQueued: stores.filter((s) => s.state === 'queued').length,
    ...(consentPlaces ? { consentPlaces } : {}),
    ...(identity ? { keptIdentity: identity } : {}),
    previousReceipt: record.receiptKey ?? null,
    at: now.toISOString(),
  });
}

/** Statuses the CLI cancels without an execution: nothing runs, nothing was applied by this run. */
export const CANCELLABLE_AT_REST: ReadonlySet<RequestStatus> = new Set<RequestStatus>(['received', 'planned', 'awaiting-approval', 'rejected', 'failed', 'routed-to-person']);

/**
 * Ends a request at rest as cancelled, on condition its status is still the one read (an
 * approval racing it loses), before its receipt is written: a retry of `dsr cancel` then
 * finds it cancelled and writes the receipt (idempotent) it may have missed.
 */
export async function cancelAtRest(rt: Ctx, record: RequestRecord, now: Date): Promise<void> {
  const { requestId } = record.request;
  try {
    await DynamoDBDocumentClient.from(rt.dynamodb).send(
      new UpdateCommand({
        TableName: rt.ledger.table,
        Key: { pk: `request#${requestId}`, sk: 'request' },
        UpdateExpression: 'SET #status = :cancelled, dueState = :answered, updatedAt = :now, reason = :reason',
        ConditionExpression: '#status = :seen',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':cancelled': 'cancelled', ':answered': 'answered', ':now': now.toISOString(), ':reason': CANCELLED, ':seen': record.status },
      }),
    );
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) throw new CancelRefusedError(`request ${requestId} changed meanwhile (it was ${record.status}); look at dsr status ${requestId}`);
    throw err;
  }
}

/**
 * A cancelled erasure is finished later by `dsr resume`: the erasure may already have removed
 * the account through which a new request would find the subject, and the resume erases what
 * is left with the identity the request kept. Reopening removes the flag (the `cancelled`
 * receipt stays in the chain) and leaves the request `failed`, which a resume picks up.
 */
export async function reopenCancelled(rt: Ctx, record: RequestRecord, now: Date): Promise<void> {
  const { requestId } = record.request;
  if (record.request.type !== 'erasure') throw new CancelRefusedError(`request ${requestId} is not an erasure: a cancelled ${record.request.type} request is not resumed; start a new request`);
  try {
    await DynamoDBDocumentClient.from(rt.dynamodb).send(
      new UpdateCommand({
        TableName: rt.ledger.table,
        Key: { pk: `request#${requestId}`, sk: 'request' },
        UpdateExpression: 'SET #status = :failed, dueState = :open, updatedAt = :now, reason = :reason REMOVE cancelRequested, cancelReason',
        ConditionExpression: '#status = :cancelled',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':failed': 'failed', ':open': 'open', ':now': now.toISOString(), ':reason': 'cancelled-then-resumed', ':cancelled': 'cancelled' },
      }),
    );
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) throw new CancelRefusedError(`request ${requestId} changed meanwhile; look at dsr status ${requestId}`);
    throw err;
  }
}

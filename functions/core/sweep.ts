/**
 * The retention sweep: erase what was kept past an erasure request once its reason has ended
 * (retention period over, hold released or expired, Object Lock lifted).
 *
 * Each deferred entry names a request and a store. The sweep rediscovers the subject in that
 * store (with the identity kept for deferred erasure), decides again at the sweep's date, and
 * applies only what is now erasable; what must still be kept is scheduled again. Entries move
 * from `pending` to `done` with a conditional write, so a repeated sweep does nothing twice.
 */
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { queryPartition } from './ledger-partition';
import type { PlannedAction } from '../connectors/types';
import { deferredEntries, type DeferredEntry } from './deferred';
import { RequestNotFoundError, RequestStateError } from './errors';
import { takeWithinBudget } from './sweep-limits';
import { acquireErasureLease, readHoldVersions, releaseErasureLeases } from './erasure-lock';
import { findHoldsForSubject } from './holds';
import { planStore, type Plan } from './plan';
import { storeNamed } from './request-data';
import { DEFAULT_SCHEDULE, parseSchedule } from './retention';
import type { Runtime } from './runtime';
import { canonicalJson, sha256Hex } from './hash';
import type { Identity } from '../connectors/types';
import { hasQueuedLogErasure } from './log-queue';

/** The deferred entries of one request and store that are due: swept together, once. */
export interface DueEntry {
  readonly requestId: string;
  readonly store: string;
  /** The deferred items' sort keys (`<due>#<requestId>#<store>#<basis>`): no personal value. */
  readonly sks: readonly string[];
}

export function deferredIdentityKey(requestId: string): string {
  return `deferred/${requestId}/identity.json`;
}

/**
 * Once nothing of a request is pending any more, the identity kept for its sweeps is personal
 * data without a purpose: every version of it is deleted. Not while the request itself has
 * failed: a resume of it still needs the identity (functions/core/resume.ts).
 */
export async function forgetIdentityWhenDone(rt: Runtime, requestId: string, opts: { unlessFailed?: boolean } = {}): Promise<boolean> {
  if (opts.unlessFailed !== false && (await rt.ledger.getRequest(requestId))?.status === 'failed') return false;
  const stillPending = queryPartition(rt, 'deferred', {
    filter: '#status = :pending AND requestId = :rid',
    names: { '#status': 'status' },
    values: { ':pending': 'pending', ':rid': requestId },
  });
  for await (const _ of stillPending) return false;
  // A log store queued for the batched pass still needs it (functions/core/log-pass.ts).
  if (await hasQueuedLogErasure(rt, requestId)) return false;
  await rt.workspace.deleteEveryVersion(deferredIdentityKey(requestId));
  return true;
}

/** Pending entries due on or before `now`, and those waiting on a hold (re-checked every sweep). */
export async function findDue(rt: Pick<Runtime, 'dynamodb' | 'ledger'>, now: Date): Promise<Array<DueEntry & { readonly position: string }>> {
  const due = new Map<string, { requestId: string; store: string; sks: string[]; earliest: string }>();
  const today = now.toISOString().slice(0, 10);
  const pending = queryPartition(rt, 'deferred', { filter: '#status = :pending', names: { '#status': 'status' }, values: { ':pending': 'pending' } });
  for await (const item of pending) {
    const entry = item as unknown as DeferredEntry & { sk: string };
    if (entry.due !== 'hold' && entry.due > today) continue;
    const id = `${entry.requestId}#${entry.store}`;
    const group = due.get(id) ?? { requestId: entry.requestId, store: entry.store, sks: [], earliest: 'hold' };
    group.sks.push(entry.sk);
    // Dates sort before 'hold': what is due by date goes first, then what waits on a hold.
    if (entry.due < group.earliest) group.earliest = entry.due;
    due.set(id, group);
  }
  // Oldest first, in a stable order that a page cursor can resume (see duePage).
  return [...due.values()]
    .map(({ requestId, store, sks, earliest }) => ({ requestId, store, sks, position: `${earliest}#${requestId}#${store}` }))
    .sort((a, b) => (a.position < b.position ? -1 : a.position > b.position ? 1 : 0));
}

const CURSOR_KEY = { pk: 'sweep', sk: 'cursor' };

/**
 * One run's page of the due entries: at most `max`, from just after where the previous run
 * stopped (a cursor in the ledger), wrapping around at the end. Entries that cannot progress
 * (waiting on a hold that is still on) therefore never keep the ones after them from being
 * swept, whatever their number. The cursor holds an entry position (a date, a request id and a
 * store name): no personal value.
 */
export async function duePage(rt: Pick<Runtime, 'dynamodb' | 'ledger'>, now: Date, max: number): Promise<{ due: DueEntry[]; total: number }> {
  const all = await findDue(rt, now);
  const doc = DynamoDBDocumentClient.from(rt.dynamodb);
  const cursor = ((await doc.send(new GetCommand({ TableName: rt.ledger.table, Key: CURSOR_KEY, ConsistentRead: true }))).Item?.position as string | undefined) ?? '';
  const start = all.findIndex((e) => e.position > cursor);
  const rotated = start <= 0 ? all : [...all.slice(start), ...all.slice(0, start)];
  // At most `max`, and fewer when entries with many deferred items would outgrow the run's state.
  const page = takeWithinBudget(rotated, max);
  // Next run starts after this page; when the page is everything, from the start again.
  const next = page.length < all.length ? page[page.length - 1].position : '';
  await doc.send(new PutCommand({ TableName: rt.ledger.table, Item: { ...CURSOR_KEY, position: next, at: now.toISOString() } }));
  return { due: page.map(({ requestId, store, sks }) => ({ requestId, store, sks })), total: all.length };
}

export interface SweepResult {
  readonly requestId: string;
  readonly store: string;
  readonly status: 'done' | 'skipped';
  readonly counts: Record<string, number>;
}

export async function sweepEntry(rt: Runtime, entry: DueEntry, now: Date): Promise<SweepResult> {
  const doc = DynamoDBDocumentClient.from(rt.dynamodb);
  const items = await Promise.all(entry.sks.map(async (sk) => (await doc.send(new GetCommand({ TableName: rt.ledger.table, Key: { pk: 'deferred', sk }, ConsistentRead: true }))).Item));
  const pending = items.filter((i): i is Record<string, unknown> => i?.status === 'pending');
  if (pending.length === 0) return { requestId: entry.requestId, store: entry.store, status: 'skipped', counts: {} };

  const record = await rt.ledger.getRequest(entry.requestId);
  const identity = await rt.workspace.getJson<Identity>(deferredIdentityKey(entry.requestId));
  if (!record) throw new RequestNotFoundError(entry.requestId);
  if (!identity) throw new RequestStateError(`deferred entry of request ${entry.requestId} has no kept identity`, { requestId: entry.requestId, store: entry.store });
  const store = storeNamed(rt, entry.store);
  const ctx = { ...rt.connectorContext(), now };
  const findings = await rt.connectors(store).discover(store, identity, ctx);
  const schedule = rt.config.retention === undefined ? DEFAULT_SCHEDULE : parseSchedule(rt.config.retention);
  const holdVersions = await readHoldVersions(rt, record.request.subjectId, [store.name]);
  const holds = await findHoldsForSubject(rt, record.request.subjectId, now, identity);
  const slice = planStore({ store, findings, findingsHash: sha256Hex(canonicalJson(findings)), type: 'erasure', now, schedule, holds: holds.forStore(store) });

  const byId = new Map(findings.map((f) => [f.id, f]));
  const actions: PlannedAction[] = slice.entries
    .filter((e) => e.action === 'delete' || e.action === 'anonymize' || e.action === 'redact-mentions')
    .map((e) => ({ finding: byId.get(e.findingId)!, action: e.action }));
  // One owner per request: its entries of different stores run side by side, each with its own lease.
  const owner = `sweep-${entry.requestId}`;
  const leaseId = `${owner}-${store.name}`;
  if (actions.length > 0) await acquireErasureLease(rt, { subjectId: record.request.subjectId, store: store.name, owner, leaseId, seen: holdVersions });
  const result = actions.length > 0 ? await rt.connectors(store).apply(store, identity, actions, ctx) : { applied: {}, refused: [], missing: [] };
  if (actions.length > 0) await releaseErasureLeases(rt, record.request.subjectId, [store.name], leaseId);

  // What must still be kept goes back into the ledger under its new due date.
  const stillKept: Plan = { requestId: entry.requestId, type: 'erasure', createdAt: now.toISOString(), identityHash: '', stores: [slice] };
  const rescheduled = deferredEntries(stillKept, (pending[0].planHash as string) ?? '');
  const swept = new Set(pending.map((i) => i.sk as string));
  for (const next of rescheduled) {
    const sk = `${next.due}#${next.requestId}#${next.store}#${next.basis}`;
    if (swept.has(sk)) continue;
    await doc.send(new PutCommand({ TableName: rt.ledger.table, Item: { pk: 'deferred', sk, status: 'pending', ...next } }));
  }
  const stillPending = new Set(rescheduled.map((n) => `${n.due}#${n.requestId}#${n.store}#${n.basis}`));
  const counts: Record<string, number> = {
    found: findings.length,
    ...result.applied,
    refused: result.refused.length,
    missing: result.missing.length,
    rescheduled: rescheduled.reduce((n, r) => n + r.findingIds.length, 0),
  };
  for (const sk of swept) {
    // An entry whose records must still be kept (a hold still in force) stays pending.
    if (stillPending.has(sk)) continue;
    await doc.send(
      new UpdateCommand({
        TableName: rt.ledger.table,
        Key: { pk: 'deferred', sk },
        UpdateExpression: 'SET #status = :done, sweptAt = :now, sweepCounts = :counts',
        ConditionExpression: '#status = :pending',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':done': 'done', ':pending': 'pending', ':now': now.toISOString(), ':counts': counts },
      }),
    );
  }
  return { requestId: entry.requestId, store: entry.store, status: 'done', counts };
}

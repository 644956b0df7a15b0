/**
 * The retention sweep: erase what was kept past an erasure request once its reason has ended
 * (retention period over, hold released or expired, Object Lock lifted).
 *
 * Each deferred entry names a request and a store. The sweep rediscovers the subject in that
 * store (with the identity kept for deferred erasure), decides again at the sweep's date, and
 * applies only what is now erasable; what must still be kept is scheduled again. Entries move
 * from `pending` to `done` with a conditional write, so a repeated sweep does nothing twice.
 */
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { connectorFor } from '../connectors';
import type { PlannedAction } from '../connectors/types';
import { deferredEntries, type DeferredEntry } from './deferred';
import { acquireErasureLease, readHoldVersions, releaseErasureLeases } from './erasure-lock';
import { findHoldsForSubject } from './holds';
import { planStore, type Plan } from './plan';
import { storeNamed } from './request-data';
import { DEFAULT_SCHEDULE, parseSchedule } from './retention';
import type { Runtime } from './runtime';
import { canonicalJson, sha256Hex } from './hash';
import type { Identity } from '../connectors/types';

export interface DueEntry {
  /** The deferred item's sort key: `<due>#<requestId>#<store>#<basis>` — no personal value. */
  readonly sk: string;
  readonly requestId: string;
  readonly store: string;
}

export function deferredIdentityKey(requestId: string): string {
  return `deferred/${requestId}/identity.json`;
}

/** Pending entries due on or before `now`, and those waiting on a hold (re-checked every sweep). */
export async function findDue(rt: Pick<Runtime, 'dynamodb' | 'ledger'>, now: Date): Promise<DueEntry[]> {
  const doc = DynamoDBDocumentClient.from(rt.dynamodb);
  const due: DueEntry[] = [];
  let start: Record<string, unknown> | undefined;
  const today = now.toISOString().slice(0, 10);
  do {
    const out = await doc.send(
      new QueryCommand({
        TableName: rt.ledger.table,
        KeyConditionExpression: 'pk = :pk',
        FilterExpression: '#status = :pending',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':pk': 'deferred', ':pending': 'pending' },
        ExclusiveStartKey: start,
        ConsistentRead: true,
      }),
    );
    for (const item of out.Items ?? []) {
      const entry = item as DeferredEntry & { sk: string };
      if (entry.due === 'hold' || entry.due <= today) due.push({ sk: entry.sk, requestId: entry.requestId, store: entry.store });
    }
    start = out.LastEvaluatedKey;
  } while (start);
  return due;
}

export interface SweepResult {
  readonly sk: string;
  readonly requestId: string;
  readonly store: string;
  readonly status: 'done' | 'skipped';
  readonly counts: Record<string, number>;
}

export async function sweepEntry(rt: Runtime, entry: DueEntry, now: Date): Promise<SweepResult> {
  const doc = DynamoDBDocumentClient.from(rt.dynamodb);
  const item = (await doc.send(new GetCommand({ TableName: rt.ledger.table, Key: { pk: 'deferred', sk: entry.sk }, ConsistentRead: true }))).Item;
  if (!item || item.status !== 'pending') return { ...entry, status: 'skipped', counts: {} };

  const record = await rt.ledger.getRequest(entry.requestId);
  const identity = await rt.workspace.getJson<Identity>(deferredIdentityKey(entry.requestId));
  if (!record || !identity) throw new Error(`deferred entry of request ${entry.requestId} has no request or identity`);
  const store = storeNamed(rt, entry.store);
  const ctx = { ...rt.connectorContext(), now };
  const findings = await connectorFor(store).discover(store, identity, ctx);
  const schedule = rt.config.retention === undefined ? DEFAULT_SCHEDULE : parseSchedule(rt.config.retention);
  const holdVersions = await readHoldVersions(rt, record.request.subjectId, [store.name]);
  const holds = await findHoldsForSubject(rt, record.request.subjectId, now, identity);
  const slice = planStore({ store, findings, findingsHash: sha256Hex(canonicalJson(findings)), type: 'erasure', now, schedule, holds: holds.forStore(store) });

  const byId = new Map(findings.map((f) => [f.id, f]));
  const actions: PlannedAction[] = slice.entries
    .filter((e) => e.action === 'delete' || e.action === 'anonymize' || e.action === 'redact-mentions')
    .map((e) => ({ finding: byId.get(e.findingId)!, action: e.action }));
  const leaseId = `sweep-${entry.requestId}`;
  if (actions.length > 0) await acquireErasureLease(rt, { subjectId: record.request.subjectId, store: store.name, requestId: leaseId, now, seen: holdVersions });
  const result = actions.length > 0 ? await connectorFor(store).apply(store, identity, actions, ctx) : { applied: {}, refused: [], missing: [] };
  if (actions.length > 0) await releaseErasureLeases(rt, record.request.subjectId, [store.name], leaseId);

  // What must still be kept goes back into the ledger under its new due date.
  const stillKept: Plan = { requestId: entry.requestId, type: 'erasure', createdAt: now.toISOString(), identityHash: '', stores: [slice] };
  const rescheduled = deferredEntries(stillKept, (item.planHash as string) ?? '');
  for (const next of rescheduled) {
    const sk = `${next.due}#${next.requestId}#${next.store}#${next.basis}`;
    if (sk === entry.sk) continue;
    await doc.send(new PutCommand({ TableName: rt.ledger.table, Item: { pk: 'deferred', sk, status: 'pending', ...next } }));
  }
  const stillDueHere = rescheduled.find((n) => `${n.due}#${n.requestId}#${n.store}#${n.basis}` === entry.sk);
  const counts: Record<string, number> = {
    found: findings.length,
    ...result.applied,
    refused: result.refused.length,
    missing: result.missing.length,
    rescheduled: rescheduled.reduce((n, r) => n + r.findingIds.length, 0),
  };
  await doc.send(
    new UpdateCommand({
      TableName: rt.ledger.table,
      Key: { pk: 'deferred', sk: entry.sk },
      // A hold entry that is still held stays pending; everything else is done.
      UpdateExpression: 'SET #status = :status, sweptAt = :now, sweepCounts = :counts',
      ConditionExpression: '#status = :pending',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':status': stillDueHere ? 'pending' : 'done', ':pending': 'pending', ':now': now.toISOString(), ':counts': counts },
    }),
  );
  return { ...entry, status: 'done', counts };
}

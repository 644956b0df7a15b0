/**
 * The deferred ledger: records kept past a request (retained by law, held, refused by Object
 * Lock) with the day they come due. One item per request, store, basis and due day
 * (pk `deferred`, sk `<due>#<requestId>#<store>#<basis>`); held records without an end date
 * are due `hold` and are looked at again by every sweep.
 */
import { marshall } from '@aws-sdk/util-dynamodb';
import { batchPutItems } from '../aws/dynamodb-batch';
import { DEFAULT_BACKOFF } from './backoff';
import type { Plan } from './plan';
import type { Runtime } from './runtime';

export interface DeferredEntry {
  readonly requestId: string;
  readonly planHash: string;
  readonly store: string;
  readonly basis: string;
  /** ISO date the records come due, or `hold` while a hold has no end date. */
  readonly due: string;
  readonly findingIds: readonly string[];
}

export function deferredEntries(plan: Plan, planHash: string): DeferredEntry[] {
  const groups = new Map<string, DeferredEntry & { findingIds: string[] }>();
  for (const slice of plan.stores) {
    for (const e of slice.entries) {
      if (e.decision !== 'retain-until' && e.decision !== 'refused' && !(e.decision === 'restrict' && plan.type === 'erasure')) continue;
      const due = e.until ? e.until.slice(0, 10) : 'hold';
      const id = `${due}#${plan.requestId}#${slice.store}#${e.basis}`;
      let group = groups.get(id);
      if (!group) {
        group = { requestId: plan.requestId, planHash, store: slice.store, basis: e.basis, due, findingIds: [] };
        groups.set(id, group);
      }
      group.findingIds.push(e.findingId);
    }
  }
  return [...groups.values()];
}

export async function scheduleDeferred(rt: Pick<Runtime, 'dynamodb' | 'ledger'>, plan: Plan, planHash: string): Promise<{ scheduled: number; nextDue: string | null }> {
  const entries = deferredEntries(plan, planHash);
  await putDeferredEntries(rt, entries);
  const dated = entries.map((e) => e.due).filter((d) => d !== 'hold').sort();
  return { scheduled: entries.reduce((n, e) => n + e.findingIds.length, 0), nextDue: dated[0] ?? null };
}

/** Writes entries to the deferred ledger; writing the same entries again is idempotent. */
export async function putDeferredEntries(rt: Pick<Runtime, 'dynamodb' | 'ledger'>, entries: readonly DeferredEntry[]): Promise<void> {
  // 25 per request (one by one took 2-3 s for the ~130 entries of a busy subject).
  await batchPutItems(
    { client: rt.dynamodb, store: 'ledger', table: rt.ledger.table, partitionKey: 'pk', sortKey: 'sk' },
    entries.map((entry) => marshall({ pk: 'deferred', sk: `${entry.due}#${entry.requestId}#${entry.store}#${entry.basis}`, status: 'pending', ...entry }, { removeUndefinedValues: true })),
    DEFAULT_BACKOFF,
  );
}

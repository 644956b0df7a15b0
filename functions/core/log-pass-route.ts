/**
 * Which way a request reaches a big log store's records. An erasure: the request itself (scan
 * and rewrite, inline) or the batched log-erasure pass (queued); an access, portability or
 * restriction request: one DiscoverStore (inline) or a Distributed Map over work units
 * (fan-out). The data map chooses per store (`logPass`); `auto` treats a store as big once it
 * holds `logPass.aboveBytes` or more, counted from its listing (every version), which stops as
 * soon as the threshold is passed.
 */
import type { Store } from './datamap';
import { isBatchConnector } from '../connectors/types';
import { deadlineOf, enqueueLogErasure, queuedLogErasures, type QueuedLogErasure } from './log-queue';
import type { Runtime } from './runtime';

export async function queuesForLogPass(rt: Runtime, store: Store, requestType: string): Promise<boolean> {
  return requestType === 'erasure' && (await isBigLogStore(rt, store));
}

/**
 * Whether a request that reads the store without rewriting it (access, portability, a
 * restriction or its lift) discovers it on a Distributed Map over its work units
 * (functions/core/log-scan.ts) rather than in one DiscoverStore: by the same rule as the erasure
 * queue, so a store is either small everywhere or big everywhere. A restriction has to find the
 * records to count and report them, and a 1 TB store does not fit one Lambda's 900 s either.
 */
const FANNED_OUT_TYPES: ReadonlySet<string> = new Set(['access', 'portability', 'restriction']);

/** Of those, the types whose fanned-out units export what they find (a restriction only counts). */
export const EXPORTING_TYPES: ReadonlySet<string> = new Set(['access', 'portability']);

export async function fansOut(rt: Runtime, store: Store, requestType: string): Promise<boolean> {
  return FANNED_OUT_TYPES.has(requestType) && (await isBigLogStore(rt, store));
}

/** `logPass: queued`, or `auto` and at least `aboveBytes` stored (the listing stops once past it). */
async function isBigLogStore(rt: Runtime, store: Store): Promise<boolean> {
  if (store.kind !== 's3-records' || store.logPass === 'inline') return false;
  if (store.logPass === 'queued') return true;
  const connector = rt.connectors(store);
  if (!isBatchConnector(connector)) return false;
  const threshold = rt.config.settings.logPass.aboveBytes;
  let bytes = 0;
  for await (const listed of connector.listKeys(store, rt.connectorContext())) {
    bytes += listed.storedBytes;
    if (bytes >= threshold) return true;
  }
  return false;
}

/** Queues the request's store for the next pass, with the request's statutory deadline. */
export async function queueForLogPass(rt: Runtime, args: { requestId: string; store: string; planHash: string; receivedAt: string; dueAt?: string }): Promise<'queued' | 'already-queued'> {
  const now = rt.clock.now().toISOString();
  // The request's own deadline (extended or not, per jurisdiction); requests recorded before deadlines existed: received + the period.
  const dueBy = args.dueAt ?? deadlineOf(args.receivedAt, rt.config.settings.logPass.responseDays);
  return enqueueLogErasure(rt, { requestId: args.requestId, store: args.store, planHash: args.planHash, queuedAt: now, dueBy });
}

/** What a receipt and `dsr status` say of a request's queued stores: names, statuses and dates only. */
export async function queuedStoresOf(rt: Pick<Runtime, 'dynamodb' | 'ledger'>, requestId: string, opts: { includeDone?: boolean } = {}): Promise<Array<Pick<QueuedLogErasure, 'store' | 'status' | 'dueBy' | 'queuedAt' | 'passId' | 'doneAt' | 'postponed' | 'lastPostponedBecause'>>> {
  return (await queuedLogErasures(rt, { requestId, includeDone: opts.includeDone })).map(({ store, status, dueBy, queuedAt, passId, doneAt, postponed, lastPostponedBecause }) =>
    Object.fromEntries(Object.entries({ store, status, dueBy, queuedAt, passId, doneAt, postponed, lastPostponedBecause }).filter(([, v]) => v !== undefined)) as never,
  );
}

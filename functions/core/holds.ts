/**
 * Legal holds in force for a subject: holds placed in the ledger (on the subject or on a whole
 * store) and hold flags on the subject's own records (an account flagged for a fraud
 * investigation).
 */
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoLocator, Finding, Identity } from '../connectors/types';
import { listActiveHolds } from './hold-ledger';
import { pendingAccessRequests, PENDING_ACCESS_BASIS } from './pending-requests';
import { RequestNotFoundError } from './errors';
import type { Category, Store } from './datamap';
import { docKeys } from './request-data';
import type { ActiveHold, HoldKind } from './retention';
import type { Runtime } from './runtime';

export interface HoldsInForce {
  forStore(store: Store): ActiveHold[];
  readonly all: readonly (ActiveHold & { store?: string })[];
}

/**
 * Holds for a running request: its findings are already in the work bucket. A flag store whose
 * findings are missing (its discovery failed) gives no reading of the flags, and that is not a
 * reading of "no flag": see holdsFor. Any other read error fails the call.
 */
export async function findHolds(rt: Runtime, requestId: string, now: Date): Promise<HoldsInForce> {
  const record = await rt.ledger.getRequest(requestId);
  if (!record) throw new RequestNotFoundError(requestId);
  // Only an erasure is held back by the subject's pending access requests: an access request's own plan withholds nothing.
  const pending = record.request.type === 'erasure' ? await pendingHolds(rt, record.request.subjectId, requestId) : [];
  return holdsFor(rt, record.request.subjectId, now, (store) => rt.workspace.getJson<Finding[]>(docKeys.findings(requestId, store)), pending);
}

/** The subject's unanswered access and portability requests, as holds on all of the subject's data (PIPEDA s.8(8)). */
async function pendingHolds(rt: Runtime, subjectId: string, except?: string): Promise<ActiveHold[]> {
  return (await pendingAccessRequests(rt, subjectId, { except })).map((p) => ({ kind: 'pending-request' as const, holdId: `pending-request:${p.requestId}`, basis: PENDING_ACCESS_BASIS }));
}

/** Holds for a subject at sweep time: the flag stores are searched again. */
export async function findHoldsForSubject(rt: Runtime, subjectId: string, now: Date, identity?: Identity): Promise<HoldsInForce> {
  return holdsFor(
    rt,
    subjectId,
    now,
    async (storeName) => {
      const store = rt.config.dataMap.stores.find((s) => s.name === storeName);
      if (!store || !identity) return undefined;
      return rt.connectors(store).discover(store, identity, rt.connectorContext());
    },
    await pendingHolds(rt, subjectId),
  );
}

async function holdsFor(
  rt: Runtime,
  subjectId: string | undefined,
  now: Date,
  /** A store's findings; undefined when there are none to read. */
  findingsOf: (store: string) => Promise<Finding[] | undefined>,
  pending: readonly ActiveHold[] = [],
): Promise<HoldsInForce> {
  // Ledger holds first: their basis is the one a record's decision names when both apply.
  const holds: (ActiveHold & { store?: string; category?: Category })[] = [];
  for (const hold of await listActiveHolds(rt, now)) {
    if (hold.scope === 'store') holds.push({ kind: hold.kind, holdId: hold.holdId, endsAt: hold.endsAt, store: hold.store });
    else if (subjectId !== undefined && hold.subjectId === subjectId) holds.push({ kind: hold.kind, holdId: hold.holdId, endsAt: hold.endsAt });
  }
  for (const store of rt.config.dataMap.stores) {
    if (store.kind !== 'dynamodb' || Object.keys(store.holdFlags).length === 0) continue;
    const findings = await findingsOf(store.name);
    if (findings === undefined) {
      // The flags cannot be read, so a flag cannot be ruled out: the category is refused as if
      // flagged (never erased), and the basis says why.
      const kind = Object.values(store.holdFlags)[0] as HoldKind;
      holds.push({ kind, holdId: `flags-unreadable:${store.name}`, category: store.category, basis: 'hold-flags-unreadable' });
      continue;
    }
    for (const finding of findings.filter((f) => f.role === 'owner')) {
      const locator = finding.locator as DynamoLocator;
      const out = await rt.dynamodb.send(new GetItemCommand({ TableName: locator.table, Key: locator.key as never, ConsistentRead: true }));
      const item = out.Item ? unmarshall(out.Item) : {};
      for (const [attribute, kind] of Object.entries(store.holdFlags)) {
        if (flagRaised(item[attribute])) holds.push({ kind: kind as HoldKind, holdId: `flag:${store.name}:${attribute}`, category: store.category });
      }
    }
  }
  holds.push(...pending);
  return {
    all: holds,
    // A flag on an account record (an investigation) holds the subject's data of that
    // category ("account information may be retained for investigative purposes").
    forStore: (store) => holds.filter((h) => (h.store === undefined || h.store === store.name) && (h.category === undefined || h.category === store.category)),
  };
}

/**
 * Whether a hold flag attribute is set. Operators' systems write flags as booleans, strings or
 * numbers ("true", "Y", 1): only an absent attribute or a clear "no" reads as not flagged.
 */
export function flagRaised(value: unknown): boolean {
  if (value === undefined || value === null || value === false || value === 0) return false;
  if (typeof value === 'string') return !['', 'false', 'no', 'n', '0', 'off'].includes(value.trim().toLowerCase());
  return true;
}

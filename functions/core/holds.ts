/**
 * Legal holds in force for a subject: holds placed in the ledger (on the subject or on a whole
 * store) and hold flags on the subject's own records (an account flagged for a fraud
 * investigation).
 */
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { connectorFor } from '../connectors';
import type { DynamoLocator, Finding, Identity } from '../connectors/types';
import { listActiveHolds } from './hold-ledger';
import type { Category, Store } from './datamap';
import { loadFindings } from './request-data';
import type { ActiveHold, HoldKind } from './retention';
import type { Runtime } from './runtime';

export interface HoldsInForce {
  forStore(store: Store): ActiveHold[];
  readonly all: readonly (ActiveHold & { store?: string })[];
}

/** Holds for a running request: its findings are already in the work bucket. */
export async function findHolds(rt: Runtime, requestId: string, now: Date): Promise<HoldsInForce> {
  const record = await rt.ledger.getRequest(requestId);
  return holdsFor(rt, record?.request.subjectId, now, (store) => loadFindings(rt, requestId, store).catch(() => []));
}

/** Holds for a subject at sweep time: the flag stores are searched again. */
export async function findHoldsForSubject(rt: Runtime, subjectId: string, now: Date, identity?: Identity): Promise<HoldsInForce> {
  return holdsFor(rt, subjectId, now, async (storeName) => {
    const store = rt.config.dataMap.stores.find((s) => s.name === storeName);
    if (!store || !identity) return [];
    return connectorFor(store).discover(store, identity, rt.connectorContext());
  });
}

async function holdsFor(
  rt: Runtime,
  subjectId: string | undefined,
  now: Date,
  findingsOf: (store: string) => Promise<Finding[]>,
): Promise<HoldsInForce> {
  const holds: (ActiveHold & { store?: string; category?: Category })[] = [];
  for (const hold of await listActiveHolds(rt, now)) {
    if (hold.scope === 'store') holds.push({ kind: hold.kind, holdId: hold.holdId, endsAt: hold.endsAt, store: hold.store });
    else if (subjectId !== undefined && hold.subjectId === subjectId) holds.push({ kind: hold.kind, holdId: hold.holdId, endsAt: hold.endsAt });
  }
  for (const store of rt.config.dataMap.stores) {
    if (store.kind !== 'dynamodb' || Object.keys(store.holdFlags).length === 0) continue;
    for (const finding of (await findingsOf(store.name)).filter((f) => f.role === 'owner')) {
      const locator = finding.locator as DynamoLocator;
      const out = await rt.dynamodb.send(new GetItemCommand({ TableName: locator.table, Key: locator.key as never, ConsistentRead: true }));
      const item = out.Item ? unmarshall(out.Item) : {};
      for (const [attribute, kind] of Object.entries(store.holdFlags)) {
        if (item[attribute] === true) holds.push({ kind: kind as HoldKind, holdId: `flag:${store.name}:${attribute}`, category: store.category });
      }
    }
  }
  return {
    all: holds,
    // A flag on an account record (an investigation) holds the subject's data of that
    // category ("account information may be retained for investigative purposes").
    forStore: (store) => holds.filter((h) => (h.store === undefined || h.store === store.name) && (h.category === undefined || h.category === store.category)),
  };
}

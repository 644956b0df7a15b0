/**
 * What a record-level purge keeps, and on which basis, asked as the pipeline asks it:
 *
 * - a ledger hold on the whole store keeps all of it; a hold on a subject keeps the records
 *   discovery finds for that subject in the store (owner records and mentions alike);
 * - a hold flag on the owner's record (an account flagged `fraudInvestigation`) keeps the
 *   records that owner holds in the store, with the flag's kind (`investigation`): the purge is
 *   the schedule's, not the person's, and evidence under investigation is not destroyed by a
 *   timer. A flag that cannot be read for a record (no way from its owner to the flag store's
 *   record) is not ruled out: the record is kept as `hold-flags-unreadable`, as holds.ts does;
 * - a pending access or portability request (pendingAccessRequests, PIPEDA s.8(8)) keeps what
 *   discovery finds for its subject: basis `pending-access-request`.
 *
 * Precedence is holds.ts's: ledger holds, then flags, then pending requests.
 */
import { GetItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { keyOf, keyString, type Item } from '../aws/dynamodb-keys';
import type { DynamoLocator } from '../connectors/types';
import type { DynamoDbStore } from './datamap';
import { listActiveHolds } from './hold-ledger';
import { flagRaised } from './holds';
import { resolveIdentity } from './identity';
import { pendingAccessSubjects, PENDING_ACCESS_BASIS } from './pending-requests';
import type { Runtime } from './runtime';

export interface KeptRecords {
  /** The kind of a hold on the whole store: everything in it is kept. */
  readonly wholeStore?: string;
  /** The active holds' ids when read: a purge compares them again before each batch. */
  readonly holdIds: string;
  /** The attributes a record must carry for `basisOf` (its key and its owner's identifiers). */
  readonly attributes: readonly string[];
  /** The basis that keeps this record, or undefined: it may go. */
  basisOf(item: Item): Promise<string | undefined>;
}

/** The sorted ids of the active holds: a change between reading and writing stops a purge. */
export async function activeHoldIds(rt: Runtime, now: Date): Promise<string> {
  return (await listActiveHolds(rt, now)).map((h) => h.holdId).sort().join(',');
}

/** Keys of the store's records that discovery finds for these subjects, each with its subject's basis (first one wins). */
async function discoveredKeys(rt: Runtime, store: DynamoDbStore, subjects: ReadonlyMap<string, string>, now: Date): Promise<Map<string, string>> {
  const keys = new Map<string, string>();
  const ctx = rt.connectorContext();
  for (const [subjectId, basis] of subjects) {
    const { identity, found } = await resolveIdentity(rt.config.dataMap, subjectId, rt.connectors, ctx);
    if (!found) continue;
    for (const f of await rt.connectors(store).discover(store, identity, { ...ctx, now })) {
      const k = keyString(keyOf((f.locator as DynamoLocator).key as Item, store.key.partitionKey, store.key.sortKey));
      if (!keys.has(k)) keys.set(k, basis);
    }
  }
  return keys;
}

export async function keptRecords(rt: Runtime, store: DynamoDbStore, now: Date): Promise<KeptRecords> {
  const holds = await listActiveHolds(rt, now);
  const holdIds = holds.map((h) => h.holdId).sort().join(',');
  const keyAttributes = [store.key.partitionKey, ...(store.key.sortKey ? [store.key.sortKey] : [])];
  const onStore = holds.find((h) => h.scope === 'store' && h.store === store.name);
  if (onStore) return { wholeStore: onStore.kind, holdIds, attributes: keyAttributes, basisOf: () => Promise.resolve(onStore.kind) };
  const held = new Map<string, string>();
  for (const h of holds) if (h.scope === 'subject' && h.subjectId && !held.has(h.subjectId)) held.set(h.subjectId, h.kind);
  const pending = new Map<string, string>();
  for (const s of await pendingAccessSubjects(rt)) if (!held.has(s)) pending.set(s, PENDING_ACCESS_BASIS);
  const heldKeys = await discoveredKeys(rt, store, held, now);
  const pendingKeys = await discoveredKeys(rt, store, pending, now);
  const flags = ownerFlags(rt, store);
  return {
    holdIds,
    attributes: [...new Set([...keyAttributes, ...flags.attributes])],
    basisOf: async (item) => {
      const k = keyString(keyOf(item, store.key.partitionKey, store.key.sortKey));
      return heldKeys.get(k) ?? (await flags.of(item)) ?? pendingKeys.get(k);
    },
  };
}

/** How one flag store's record is read from an owner identifier's value: by its key, or through a lookup's index. */
type FlagRead = { readonly flagStore: DynamoDbStore; readonly attribute: string; readonly index?: string };

/**
 * The hold flags raised on the owners of the store's records. Each owner lookup of the store
 * (identifier T in attribute B) ties a record to the flag store's record holding T: the
 * attribute that yields T there (or its subject-id lookup when T is the subject id). One read
 * per distinct owner value, cached for the run.
 */
function ownerFlags(rt: Runtime, store: DynamoDbStore): { attributes: string[]; of(item: Item): Promise<string | undefined> } {
  const flagStores = rt.config.dataMap.stores.filter((s): s is DynamoDbStore => s.kind === 'dynamodb' && Object.keys(s.holdFlags).length > 0);
  const owners = store.lookups.filter((l) => l.role === 'owner');
  const reads: Array<{ attribute: string; read?: FlagRead }> = [];
  for (const lookup of owners) {
    for (const flagStore of flagStores) {
      const attribute =
        lookup.identifier === 'subjectId'
          ? flagStore.lookups.find((l) => l.identifier === 'subjectId' && l.role === 'owner')?.attribute
          : Object.entries(flagStore.yields).find(([, type]) => type === lookup.identifier)?.[0];
      const byKey = attribute !== undefined && attribute === flagStore.key.partitionKey && !flagStore.key.sortKey;
      const byIndex = attribute === undefined ? undefined : flagStore.lookups.find((l) => l.attribute === attribute && l.index)?.index;
      reads.push({ attribute: lookup.attribute, read: byKey || byIndex ? { flagStore, attribute: attribute!, index: byKey ? undefined : byIndex } : undefined });
    }
  }
  const cache = new Map<string, Promise<string | undefined>>();
  const flagOf = (read: FlagRead, value: Item[string]): Promise<string | undefined> => {
    const id = `${read.flagStore.name}|${read.attribute}|${JSON.stringify(value)}`;
    let found = cache.get(id);
    if (!found) {
      found = (async () => {
        const items = read.index
          ? ((await rt.dynamodb.send(new QueryCommand({ TableName: read.flagStore.table, IndexName: read.index, KeyConditionExpression: '#a = :v', ExpressionAttributeNames: { '#a': read.attribute }, ExpressionAttributeValues: { ':v': value } }))).Items ?? [])
          : [(await rt.dynamodb.send(new GetItemCommand({ TableName: read.flagStore.table, Key: { [read.attribute]: value }, ConsistentRead: true }))).Item ?? {}];
        for (const raw of items) {
          for (const [attribute, kind] of Object.entries(read.flagStore.holdFlags)) if (flagRaised(flagValue(raw[attribute]))) return kind;
        }
        return undefined;
      })();
      cache.set(id, found);
    }
    return found;
  };
  return {
    attributes: reads.map((r) => r.attribute),
    of: async (item) => {
      for (const r of reads) {
        const value = item[r.attribute];
        if (value === undefined) continue;
        if (!r.read) return 'hold-flags-unreadable';
        const kind = await flagOf(r.read, value);
        if (kind) return kind;
      }
      return undefined;
    },
  };
}

/** A flag attribute's value as flagRaised reads it (booleans, strings, numbers). */
function flagValue(av: Item[string] | undefined): unknown {
  if (av === undefined || av.NULL) return undefined;
  if (av.BOOL !== undefined) return av.BOOL;
  if (av.S !== undefined) return av.S;
  if (av.N !== undefined) return Number(av.N);
  return true;
}

/**
 * Record-level retention limits on DynamoDB stores (CDRs older than 12 months, invoices older
 * than 7 years): the records past the limit are found through the store's date index, or by
 * one segment of a parallel Scan (a bounded maintenance job: at most `maxItemsPerSegment`
 * items a run, the cursor kept in the ledger for the next run), and deleted, except what a
 * hold, a hold flag on the owner's record or a pending access request covers
 * (enforcement-kept.ts): those are counted as kept, with their basis.
 *
 * A hold placed while a purge runs stops it before its next batch (the active holds are read
 * again before each write); the next run goes on. Counts only leave this module: no key, no
 * value.
 */
import { GetItemCommand, ScanCommand, type QueryCommandOutput, type ScanCommandOutput } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { batchDeleteItems } from '../aws/dynamodb-batch';
import { keyOf, type Item } from '../aws/dynamodb-keys';
import { DEFAULT_BACKOFF } from './backoff';
import type { DynamoDbStore } from './datamap';
import { InvalidInputError } from './errors';
import { pagesBefore } from './date-index';
import { activeHoldIds, keptRecords, type KeptRecords } from './enforcement-kept';
import { cutoffFor, recordLimits, type PurgeUnit, type RecordLimit } from './retention-limits';
import { scheduleOf } from './enforcement-subjects';
import type { Runtime } from './runtime';

export interface PurgeCounts {
  /** Items read (index entries or scanned items): what the run paid for. */
  itemsRead: number;
  pastLimit: number;
  purged: number;
  /** Kept, by basis: a hold kind (`litigation`, `investigation` from a flag), `pending-access-request`. */
  kept: Record<string, number>;
  readUnits: number;
  writeUnits: number;
}

export interface PurgeResult {
  readonly store: string;
  readonly segment: number;
  /** `done`: nothing past the limit left unseen; `partial`: the segment's bound was reached, the next run goes on; `holds-changed`: stopped before a batch; `running-elsewhere`: another run holds the unit's lease. */
  readonly status: 'done' | 'partial' | 'holds-changed' | 'running-elsewhere';
  readonly basis: string;
  readonly counts: PurgeCounts;
}

const PAGE = 500;

function cursorKey(unit: PurgeUnit) {
  return { pk: 'retention-cursor', sk: `${unit.store}#${unit.segment}of${unit.segments}` };
}

/** Minutes a unit's lease lasts: longer than a Lambda can run (15), so a crashed holder's lease ends by itself. */
const LEASE_MS = 20 * 60_000;

/**
 * One run at a time works a unit: two runs side by side (a scheduled one and `dsr retention
 * enforce`) would both delete the same records and both count them. Real time, not the
 * engine's clock: a lease is about processes running now.
 */
async function takeLease(rt: Runtime, unit: PurgeUnit, runId: string): Promise<boolean> {
  const doc = DynamoDBDocumentClient.from(rt.dynamodb);
  try {
    await doc.send(
      new PutCommand({
        TableName: rt.ledger.table,
        Item: { pk: 'retention-lease', sk: cursorKey(unit).sk, runId, expiresAt: Date.now() + LEASE_MS },
        ConditionExpression: 'attribute_not_exists(pk) OR expiresAt < :now OR runId = :run',
        ExpressionAttributeValues: { ':now': Date.now(), ':run': runId },
      }),
    );
    return true;
  } catch (err) {
    if ((err as { name?: string }).name === 'ConditionalCheckFailedException') return false;
    throw err;
  }
}

async function releaseLease(rt: Runtime, unit: PurgeUnit, runId: string): Promise<void> {
  // Expired rather than deleted: no role may delete ledger items.
  await DynamoDBDocumentClient.from(rt.dynamodb).send(new PutCommand({ TableName: rt.ledger.table, Item: { pk: 'retention-lease', sk: cursorKey(unit).sk, runId, expiresAt: 0 } }));
}

export async function purgeUnit(rt: Runtime, unit: PurgeUnit, now: Date, runId: string): Promise<PurgeResult> {
  if (!(await takeLease(rt, unit, runId))) {
    const basis = recordLimits(rt.config.dataMap, scheduleOf(rt)).find((l) => l.store === unit.store)?.basis ?? 'none';
    return { store: unit.store, segment: unit.segment, status: 'running-elsewhere', basis, counts: { itemsRead: 0, pastLimit: 0, purged: 0, kept: {}, readUnits: 0, writeUnits: 0 } };
  }
  try {
    return await purgeLeased(rt, unit, now);
  } finally {
    await releaseLease(rt, unit, runId);
  }
}

async function purgeLeased(rt: Runtime, unit: PurgeUnit, now: Date): Promise<PurgeResult> {
  const limit = recordLimits(rt.config.dataMap, scheduleOf(rt)).find((l) => l.store === unit.store);
  const store = rt.config.dataMap.stores.find((s) => s.name === unit.store);
  if (!limit || store?.kind !== 'dynamodb') throw new InvalidInputError(`store ${unit.store} has no record-level limit to enforce`);
  const counts: PurgeCounts = { itemsRead: 0, pastLimit: 0, purged: 0, kept: {}, readUnits: 0, writeUnits: 0 };
  const kept = await keptRecords(rt, store, now);
  const cutoff = cutoffFor(now, limit.after).toISOString();
  const doc = DynamoDBDocumentClient.from(rt.dynamodb);
  const target = { client: rt.dynamodb, store: store.name, table: store.table, partitionKey: store.key.partitionKey, sortKey: store.key.sortKey };

  const handlePage = async (items: readonly Item[]): Promise<boolean> => {
    const toDelete: Item[] = [];
    for (const entry of items) {
      counts.pastLimit++;
      const item = await withAttributes(rt, store, entry, kept, counts);
      const basis = item ? await kept.basisOf(item) : undefined;
      if (basis) counts.kept[basis] = (counts.kept[basis] ?? 0) + 1;
      else if (item) toDelete.push(keyOf(item, store.key.partitionKey, store.key.sortKey));
    }
    if (toDelete.length === 0) return true;
    // A hold placed since this purge read them: stop before writing; the next run decides again.
    if ((await activeHoldIds(rt, now)) !== kept.holdIds) return false;
    const stats = { requests: 0, retries: 0 };
    counts.purged += await batchDeleteItems(target, toDelete, DEFAULT_BACKOFF, stats);
    // One write unit per item of up to 1 KB deleted (the index entry's delete is the index's own unit).
    counts.writeUnits += toDelete.length;
    return true;
  };
  const consumed = (out: QueryCommandOutput | ScanCommandOutput) => {
    counts.readUnits += out.ConsumedCapacity?.CapacityUnits ?? 0;
    counts.itemsRead += out.ScannedCount ?? out.Count ?? 0;
  };

  if (unit.method === 'index') {
    const status = await purgeByIndex(rt, limit, cutoff, consumed, handlePage);
    return { store: unit.store, segment: unit.segment, status, basis: limit.basis, counts };
  }
  const bound = limit.expiry.method === 'scan' ? limit.expiry.maxItemsPerSegment : Infinity;
  let start = (await doc.send(new GetCommand({ TableName: rt.ledger.table, Key: cursorKey(unit), ConsistentRead: true }))).Item?.lastKey as Item | undefined;
  do {
    const out = await rt.dynamodb.send(
      new ScanCommand({
        TableName: store.table,
        Segment: unit.segment,
        TotalSegments: unit.segments,
        FilterExpression: '#d < :cutoff',
        ProjectionExpression: kept.attributes.map((_, i) => `#k${i}`).join(', '),
        ExpressionAttributeNames: { '#d': limit.dateField, ...Object.fromEntries(kept.attributes.map((a, i) => [`#k${i}`, a])) },
        ExpressionAttributeValues: { ':cutoff': { S: cutoff } },
        ExclusiveStartKey: start,
        Limit: PAGE,
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
    consumed(out);
    if (!(await handlePage(out.Items ?? []))) return { store: unit.store, segment: unit.segment, status: 'holds-changed', basis: limit.basis, counts };
    start = out.LastEvaluatedKey;
    if (start && counts.itemsRead >= bound) {
      // The cursor is a table key (it may name an account): the ledger keeps it, never the state.
      await doc.send(new PutCommand({ TableName: rt.ledger.table, Item: { ...cursorKey(unit), lastKey: start, at: now.toISOString() } }));
      return { store: unit.store, segment: unit.segment, status: 'partial', basis: limit.basis, counts };
    }
  } while (start);
  // Through: the next run starts from the beginning (an empty cursor; no role may delete ledger items).
  await doc.send(new PutCommand({ TableName: rt.ledger.table, Item: { ...cursorKey(unit), at: now.toISOString() } }));
  return { store: unit.store, segment: unit.segment, status: 'done', basis: limit.basis, counts };
}

/** Each partition value of the date index, dates before the cutoff only: what is read is what is past the limit. */
async function purgeByIndex(
  rt: Runtime,
  limit: RecordLimit,
  cutoff: string,
  consumed: (out: QueryCommandOutput) => void,
  handlePage: (items: readonly Item[]) => Promise<boolean>,
): Promise<PurgeResult['status']> {
  if (limit.expiry.method !== 'index') throw new InvalidInputError(`store ${limit.store} has no date index`);
  for await (const out of pagesBefore(rt.dynamodb, { table: limit.table, index: limit.expiry, cutoff, pageSize: PAGE })) {
    consumed(out);
    if (!(await handlePage(out.Items ?? []))) return 'holds-changed';
  }
  return 'done';
}

/**
 * The entry with the attributes `basisOf` reads: an index that does not project an owner's
 * identifier costs one read of the record (undefined: it went meanwhile, nothing to purge).
 */
async function withAttributes(rt: Runtime, store: DynamoDbStore, entry: Item, kept: KeptRecords, counts: PurgeCounts): Promise<Item | undefined> {
  if (kept.wholeStore || kept.attributes.every((a) => entry[a] !== undefined)) return entry;
  const out = await rt.dynamodb.send(
    new GetItemCommand({
      TableName: store.table,
      Key: keyOf(entry, store.key.partitionKey, store.key.sortKey),
      ProjectionExpression: kept.attributes.map((_, i) => `#k${i}`).join(', '),
      ExpressionAttributeNames: Object.fromEntries(kept.attributes.map((a, i) => [`#k${i}`, a])),
      ConsistentRead: true,
      ReturnConsumedCapacity: 'TOTAL',
    }),
  );
  counts.readUnits += out.ConsumedCapacity?.CapacityUnits ?? 0;
  return out.Item;
}

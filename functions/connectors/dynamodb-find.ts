/**
 * Reading a subject's items: Query on the table's partition key or a GSI per written form of
 * each identifier value, a filtered Scan only where the data map says `allowScan`, BatchGetItem
 * for index hits that lack attributes, and an exact comparison on every whole item. Shared by
 * discovery and identity resolution.
 */
import { paginateQuery, paginateScan, type AttributeValue, type QueryCommandInput, type ScanCommandInput } from '@aws-sdk/client-dynamodb';
import type { DynamoDbStore } from '../core/datamap';
import { mapLimit } from '../core/map-limit';
import { batchGetItems, type BatchStats } from '../aws/dynamodb-batch';
import { lookupQueryValues, storeSettings, subjectValuesOf } from './dynamodb-forms';
import { resolveOptions, type DynamoDbConnectorOptions } from './dynamodb-options';
import { batchTarget, guard } from './dynamodb-requests';
import { RESTRICTION_MARKER } from './dynamodb-restriction';
import { describeTable, planLookups, type LookupPlan } from './dynamodb-table';
import { identifierStrings, isCanonicalNumber, keyOf, keyString, type Item } from './dynamodb-values';
import type { ConnectorContext, Identity } from './types';

/**
 * Identifier values compared in one Scan filter: each is an `IN` operand (at most 100) and a
 * `contains()` call, within the 4 KB expression limit.
 */
const SCAN_VALUES_PER_FILTER = 50;

export type Role = 'owner' | 'third-party';

/** An item discovery found, whole, with the lookups it matches now. */
export interface MatchedItem {
  readonly key: Item;
  readonly keyString: string;
  readonly item: Item;
  /** Positions in `store.lookups` of the lookups whose attribute holds one of the identity's values. */
  readonly matched: readonly number[];
}

/** Request and result counts of one discovery: what the logs carry. */
export interface DiscoveryStats {
  describeTable: number;
  queries: number;
  queryPages: number;
  scans: number;
  scanPages: number;
  batchGetRequests: number;
  /** Items returned by the reads, before de-duplication. */
  hits: number;
  /**
   * Hits dropped when read whole: index entries whose item is gone or changed (indexes are
   * eventually consistent), and Scan hits that `contains()` matched only as a substring.
   */
  droppedHits: number;
  /** Identifier values that cannot be a key value (empty, or not a canonical number for a numeric key). */
  skippedValues: number;
  /**
   * Of `queries`, those for other written forms of the identity's values (`514-555-0101`,
   * a lower-cased address) on lookups that hold values as people type them.
   */
  formQueries: number;
}

export interface FindOptions extends DynamoDbConnectorOptions {
  /** Only lookups of these roles; absent: all. */
  readonly roles?: readonly Role[];
}

/**
 * The items of `store` that match `identity` through the store's lookups: Query per value
 * (paginated), a filtered Scan only for lookups that need one and only with `allowScan`,
 * BatchGetItem for index hits whose projection lacks attributes discovery reads. Shared by
 * discovery and identity resolution.
 */
export async function findItems(
  store: DynamoDbStore,
  identity: Identity,
  ctx: Pick<ConnectorContext, 'dynamodb'>,
  options: FindOptions = {},
): Promise<{ items: MatchedItem[]; stats: DiscoveryStats }> {
  const opts = resolveOptions(options);
  const stats: DiscoveryStats = { describeTable: 0, queries: 0, queryPages: 0, scans: 0, scanPages: 0, batchGetRequests: 0, hits: 0, droppedHits: 0, skippedValues: 0, formQueries: 0 };
  const roles = new Set<Role>(options.roles ?? ['owner', 'third-party']);
  const wanted = store.lookups.some((l) => roles.has(l.role) && (identity[l.identifier]?.length ?? 0) > 0);
  if (!wanted) return { items: [], stats };

  const info = await describeTable(ctx.dynamodb, store);
  stats.describeTable = 1;
  const plans = planLookups(store, info, neededAttributes(store)).filter((p) => roles.has(p.lookup.role));
  const hits = new Map<string, { key: Item; item?: Item }>();
  const addHit = (item: Item, complete: boolean): void => {
    stats.hits++;
    const key = keyOf(item, info.partitionKey, info.sortKey);
    const ks = keyString(key);
    if (complete) hits.set(ks, { key, item });
    else if (!hits.has(ks)) hits.set(ks, { key });
  };

  // One Query per (lookup, written form of a value).
  const settings = storeSettings(store);
  const queries: Array<{ plan: LookupPlan; value: string }> = [];
  for (const plan of plans.filter((p) => p.via !== 'scan')) {
    const own = unique(identity[plan.lookup.identifier] ?? []);
    const keyable = (v: string): boolean => v !== '' && (plan.keyType === 'S' || isCanonicalNumber(v));
    stats.skippedValues += own.filter((v) => !keyable(v)).length;
    for (const value of lookupQueryValues(plan.lookup, own, settings).filter(keyable)) {
      if (!own.includes(value)) stats.formQueries++;
      queries.push({ plan, value });
    }
  }
  await mapLimit(queries, opts.concurrency, async ({ plan, value }) => {
    const input: QueryCommandInput = {
      TableName: store.table,
      KeyConditionExpression: '#k = :v',
      ExpressionAttributeNames: { '#k': plan.lookup.attribute },
      ExpressionAttributeValues: { ':v': plan.keyType === 'N' ? { N: value } : { S: value } },
      ...(plan.indexName ? { IndexName: plan.indexName } : { ConsistentRead: true }),
    };
    stats.queries++;
    await guard(store, 'Query', async () => {
      for await (const page of paginateQuery({ client: ctx.dynamodb, ...(opts.pageSize ? { pageSize: opts.pageSize } : {}) }, input)) {
        stats.queryPages++;
        for (const item of page.Items ?? []) addHit(item, plan.complete);
      }
    });
  });

  // Lookups that need a Scan (planLookups refused them unless allowScan): one filtered Scan per
  // group of values, all such lookups in one filter.
  const scanTerms = plans
    .filter((p) => p.via === 'scan')
    .flatMap((p) => unique(identity[p.lookup.identifier] ?? []).map((value) => ({ attribute: p.lookup.attribute, value })));
  for (let i = 0; i < scanTerms.length; i += SCAN_VALUES_PER_FILTER) {
    const input = scanInput(store.table, scanTerms.slice(i, i + SCAN_VALUES_PER_FILTER));
    stats.scans++;
    await guard(store, 'Scan', async () => {
      for await (const page of paginateScan({ client: ctx.dynamodb, ...(opts.pageSize ? { pageSize: opts.pageSize } : {}) }, input)) {
        stats.scanPages++;
        for (const item of page.Items ?? []) addHit(item, true);
      }
    });
  }

  // Index hits without the attributes discovery reads: fetch the whole items.
  const partial = [...hits.values()].filter((h) => !h.item);
  if (partial.length > 0) {
    const batch: BatchStats = { requests: 0, retries: 0 };
    const got = await batchGetItems(batchTarget(ctx.dynamodb, store, info), partial.map((h) => h.key), opts.backoff, batch);
    stats.batchGetRequests += batch.requests;
    for (const [ks, hit] of hits) {
      if (hit.item) continue;
      const item = got.get(ks);
      if (item) hits.set(ks, { key: hit.key, item });
      else {
        hits.delete(ks);
        stats.droppedHits++;
      }
    }
  }

  const positions = plans.map((p) => p.position);
  const items: MatchedItem[] = [];
  for (const [ks, hit] of hits) {
    const item = hit.item as Item;
    const matched = matchingLookups(store, identity, item, positions);
    if (matched.length === 0) {
      stats.droppedHits++;
      continue;
    }
    items.push({ key: hit.key, keyString: ks, item, matched });
  }
  items.sort((a, b) => (a.keyString < b.keyString ? -1 : a.keyString > b.keyString ? 1 : 0));
  return { items, stats };
}

/** Attributes discovery and identity resolution read from every hit. */
function neededAttributes(store: DynamoDbStore): Set<string> {
  const needed = new Set<string>([RESTRICTION_MARKER, ...store.lookups.map((l) => l.attribute), ...Object.keys(store.yields)]);
  if (store.dateField) needed.add(store.dateField);
  return needed;
}

/**
 * A Scan filter for attribute = value, or value an element of a list or set attribute
 * (`contains`). `contains` also matches substrings of strings: the exact comparison on the whole
 * item afterwards drops those.
 */
function scanInput(table: string, terms: ReadonlyArray<{ attribute: string; value: string }>): ScanCommandInput {
  const names: Record<string, string> = {};
  const values: Record<string, AttributeValue> = {};
  const byAttribute = new Map<string, string[]>();
  terms.forEach(({ attribute, value }, i) => {
    values[`:v${i}`] = { S: value };
    byAttribute.set(attribute, [...(byAttribute.get(attribute) ?? []), `:v${i}`]);
  });
  const clauses = [...byAttribute].flatMap(([attribute, placeholders], i) => {
    names[`#a${i}`] = attribute;
    return [`#a${i} IN (${placeholders.join(', ')})`, ...placeholders.map((p) => `contains(#a${i}, ${p})`)];
  });
  return { TableName: table, FilterExpression: clauses.join(' OR '), ExpressionAttributeNames: names, ExpressionAttributeValues: values, ConsistentRead: true };
}

/**
 * Positions (among `positions`) of the lookups whose attribute holds one of the identity's
 * values of its type, compared in canonical form (`514-555-0101` is `+15145550101` in a
 * store whose default country is CA; `514-555-01011` is no number and matches nothing).
 */
export function matchingLookups(store: DynamoDbStore, identity: Identity, item: Item, positions: readonly number[]): number[] {
  const settings = storeSettings(store);
  return positions.filter((position) => {
    const lookup = store.lookups[position];
    const values = identity[lookup.identifier];
    if (!values || values.length === 0) return false;
    const mine = subjectValuesOf(lookup.identifier, values, settings);
    return identifierStrings(item[lookup.attribute]).some((v) => mine.has(v));
  });
}

function unique<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}

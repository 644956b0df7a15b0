/**
 * The `dynamodb` connector: finds a subject's items by Query on the table's partition key or a
 * GSI (a filtered Scan only where the data map says `allowScan`), deletes them in batches,
 * anonymizes or redacts fields with conditional updates that never recreate a vanished item,
 * marks them restricted, and exports them (third-party items reduced to what is about the
 * subject).
 *
 * Logs and errors carry store names, counts and finding ids, never a key or an attribute value.
 */
import {
  GetItemCommand,
  paginateQuery,
  paginateScan,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
  type QueryCommandInput,
  type ScanCommandInput,
} from '@aws-sdk/client-dynamodb';
import type { Anonymizer } from '../core/anonymize';
import { DEFAULT_BACKOFF, type BackoffOptions } from '../core/backoff';
import type { Anonymization, DynamoDbStore } from '../core/datamap';
import { ConcurrentModificationError, DataMapError, InvalidInputError, StoreUnavailableError } from '../core/errors';
import { findingId } from '../core/hash';
import { mapLimit } from '../core/map-limit';
import { batchDeleteItems, batchGetItems, type BatchStats, type BatchTarget } from '../aws/dynamodb-batch';
import { lookupQueryValues, storeSettings, subjectValuesFor, subjectValuesOf, type SubjectValues } from './dynamodb-forms';
import { describeTable, planLookups, type LookupPlan, type TableInfo } from './dynamodb-table';
import {
  identifierStrings,
  isCanonicalNumber,
  itemToPlain,
  keyOf,
  keyString,
  replacementValue,
  toPlain,
  type Item,
} from './dynamodb-values';
import type { Action, ApplyResult, Connector, ConnectorContext, DynamoLocator, ExportItem, Finding, Identity, PlannedAction } from './types';

/**
 * The attribute that marks an item restricted. A map `{ at: <ISO time>, reason: <code> }`:
 * when and why, never who or what. The colon keeps it apart from operators' own attribute names.
 */
export const RESTRICTION_MARKER = 'dsr:restricted';
/** The reason code written into the marker. */
export const RESTRICTION_REASON = 'subject-rights-request';

/**
 * Identifier values compared in one Scan filter: each is an `IN` operand (at most 100) and a
 * `contains()` call, within the 4 KB expression limit.
 */
const SCAN_VALUES_PER_FILTER = 50;

export interface DynamoDbConnectorOptions {
  /** `Limit` per Query/Scan page; absent: DynamoDB's own 1 MB pages. */
  readonly pageSize?: number;
  /** Requests in flight at once per store (queries, updates). */
  readonly concurrency?: number;
  /** Retries of UnprocessedKeys / UnprocessedItems. */
  readonly backoff?: Partial<BackoffOptions>;
  /** How often a conditional update is re-read and retried when the item changed under it. */
  readonly conditionalAttempts?: number;
}

interface ResolvedOptions {
  readonly pageSize?: number;
  readonly concurrency: number;
  readonly backoff: BackoffOptions;
  readonly conditionalAttempts: number;
}

function resolveOptions(options: DynamoDbConnectorOptions): ResolvedOptions {
  return {
    pageSize: options.pageSize,
    concurrency: options.concurrency ?? 8,
    backoff: { ...DEFAULT_BACKOFF, ...options.backoff },
    conditionalAttempts: options.conditionalAttempts ?? 3,
  };
}

type Role = 'owner' | 'third-party';

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
function matchingLookups(store: DynamoDbStore, identity: Identity, item: Item, positions: readonly number[]): number[] {
  const settings = storeSettings(store);
  return positions.filter((position) => {
    const lookup = store.lookups[position];
    const values = identity[lookup.identifier];
    if (!values || values.length === 0) return false;
    const mine = subjectValuesOf(lookup.identifier, values, settings);
    return identifierStrings(item[lookup.attribute]).some((v) => mine.has(v));
  });
}

function dateOf(av: AttributeValue | undefined): string | undefined {
  if (!av) return undefined;
  let time: number | undefined;
  if (av.S !== undefined) time = Date.parse(av.S);
  else if (av.N !== undefined) {
    const n = Number(av.N);
    // Epoch seconds (what DynamoDB TTL uses) or milliseconds: seconds until the year 5138.
    time = Math.abs(n) < 1e11 ? n * 1000 : n;
  }
  if (time === undefined || !Number.isFinite(time)) return undefined;
  const date = new Date(time);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

function toFinding(store: DynamoDbStore, m: MatchedItem): Finding {
  const role: Role = m.matched.some((p) => store.lookups[p].role === 'owner') ? 'owner' : 'third-party';
  const locator: DynamoLocator = { type: 'dynamodb', table: store.table, key: m.key };
  const date = store.dateField ? dateOf(m.item[store.dateField]) : undefined;
  return {
    id: findingId(store.name, locator),
    store: store.name,
    role,
    locator,
    ...(date ? { date } : {}),
    fields: unique(m.matched.map((p) => store.lookups[p].attribute)),
    ...(m.item[RESTRICTION_MARKER] !== undefined ? { restricted: true } : {}),
  };
}

export function createDynamoDbConnector(options: DynamoDbConnectorOptions = {}): Connector<DynamoDbStore> {
  const opts = resolveOptions(options);
  return {
    kind: 'dynamodb',

    async discover(store, identity, ctx) {
      const { items, stats } = await findItems(store, identity, ctx, options);
      const findings = items.map((m) => toFinding(store, m));
      ctx.log('dynamodb.discover', {
        store: store.name,
        ...stats,
        findings: findings.length,
        owner: findings.filter((f) => f.role === 'owner').length,
        thirdParty: findings.filter((f) => f.role === 'third-party').length,
        restricted: findings.filter((f) => f.restricted).length,
      });
      return findings;
    },

    async apply(store, identity, actions, ctx) {
      const info = await describeTable(ctx.dynamodb, store);
      planLookups(store, info, new Set());
      const target = batchTarget(ctx.dynamodb, store, info);
      const byAction = groupActions(store, info, actions);
      const applied: Partial<Record<Action, number>> = {};
      const missing: string[] = [];
      const count = (action: Action, n: number): void => {
        if (n > 0) applied[action] = (applied[action] ?? 0) + n;
      };

      count('keep', byAction.keep.length);

      const batch: BatchStats = { requests: 0, retries: 0 };
      if (byAction.delete.length > 0) {
        await batchDeleteItems(target, byAction.delete.map((f) => locatorKey(f)), opts.backoff, batch);
        count('delete', byAction.delete.length);
      }

      for (const action of ['anonymize', 'redact-mentions'] as const) {
        const findings = byAction[action];
        if (findings.length === 0) continue;
        const compute = action === 'anonymize' ? anonymizeChanges(store, info, ctx.anonymizer) : redactChanges(store, info, identity, ctx.anonymizer);
        const before = await batchGetItems(target, findings.map(locatorKey), opts.backoff, batch);
        const outcomes = await mapLimit(findings, opts.concurrency, (f) =>
          rewriteItem(store, info, ctx.dynamodb, f, before.get(keyString(locatorKey(f))), compute, opts.conditionalAttempts),
        );
        findings.forEach((f, i) => {
          if (outcomes[i] === 'missing') missing.push(f.id);
        });
        count(action, outcomes.filter((o) => o === 'applied').length);
      }

      for (const action of ['restrict', 'unrestrict'] as const) {
        const findings = byAction[action];
        const outcomes = await mapLimit(findings, opts.concurrency, (f) => setMarker(store, info, ctx, f, action === 'restrict'));
        findings.forEach((f, i) => {
          if (outcomes[i] === 'missing') missing.push(f.id);
        });
        count(action, outcomes.filter((o) => o === 'applied').length);
      }

      const result: ApplyResult = { applied, refused: [], missing };
      ctx.log('dynamodb.apply', {
        store: store.name,
        ...Object.fromEntries(Object.entries(applied).map(([a, n]) => [`applied.${a}`, n])),
        missing: missing.length,
        batchRequests: batch.requests,
        batchRetries: batch.retries,
      });
      return result;
    },

    async *export(store, identity, findings, ctx): AsyncIterable<ExportItem> {
      const info = await describeTable(ctx.dynamodb, store);
      planLookups(store, info, new Set());
      for (const f of findings) checkFinding(store, info, f);
      const got = await batchGetItems(batchTarget(ctx.dynamodb, store, info), findings.map(locatorKey), opts.backoff);
      const all = store.lookups.map((_l, i) => i);
      let records = 0;
      let gone = 0;
      for (const f of findings) {
        const item = got.get(keyString(locatorKey(f)));
        const matched = item ? matchingLookups(store, identity, item, all) : [];
        if (!item || matched.length === 0) {
          gone++;
          yield { type: 'missing', findingId: f.id, reason: item ? 'no-longer-matches' : 'not-found' };
          continue;
        }
        records++;
        // An item exported whole must still be the subject's own; otherwise only what is about them.
        if (f.role === 'owner' && matched.some((p) => store.lookups[p].role === 'owner')) {
          yield { type: 'record', findingId: f.id, role: 'owner', record: itemToPlain(item, new Set([RESTRICTION_MARKER])) };
        } else {
          yield { type: 'record', findingId: f.id, role: 'third-party', record: thirdPartyRecord(store, identity, item, matched) };
        }
      }
      ctx.log('dynamodb.export', { store: store.name, records, missing: gone });
    },
  };
}

/** The connector with default options. */
export const dynamodbConnector: Connector<DynamoDbStore> = createDynamoDbConnector();

/**
 * Someone else's item reduced to what the subject may see: `thirdParty.exportFields` (never a
 * key, lookup or yields attribute, even if listed: those hold the other person's identifiers)
 * and, in each matched attribute, only the subject's own values.
 */
function thirdPartyRecord(store: DynamoDbStore, identity: Identity, item: Item, matched: readonly number[]): Record<string, unknown> {
  const identifying = new Set([
    store.key.partitionKey,
    ...(store.key.sortKey ? [store.key.sortKey] : []),
    ...store.lookups.map((l) => l.attribute),
    ...Object.keys(store.yields),
    RESTRICTION_MARKER,
  ]);
  const record: Record<string, unknown> = {};
  for (const field of store.thirdParty?.exportFields ?? []) {
    if (!identifying.has(field) && item[field] !== undefined) record[field] = toPlain(item[field]);
  }
  for (const position of matched) {
    const attribute = store.lookups[position].attribute;
    const mine = subjectValuesFor(store, identity, attribute);
    const av = item[attribute];
    if (av === undefined) continue;
    if (av.S !== undefined || av.N !== undefined) record[attribute] = toPlain(av);
    else record[attribute] = identifierStrings(av).filter((v) => mine.has(v)).sort();
  }
  return record;
}

function batchTarget(client: DynamoDBClient, store: DynamoDbStore, info: TableInfo): BatchTarget {
  return { client, store: store.name, table: store.table, partitionKey: info.partitionKey, ...(info.sortKey ? { sortKey: info.sortKey } : {}) };
}

function locatorKey(f: Finding): Item {
  return (f.locator as DynamoLocator).key as Item;
}

/** A finding this store can act on: its own, a dynamodb locator on its table, a complete primary key. */
function checkFinding(store: DynamoDbStore, info: TableInfo, f: Finding): void {
  const problem = (what: string): never => {
    throw new InvalidInputError(`store ${store.name}: finding ${f.id} ${what}`, { store: store.name, findingId: f.id });
  };
  if (f.store !== store.name) problem('belongs to another store');
  if (f.locator.type !== 'dynamodb' || f.locator.table !== store.table) problem('does not locate an item of this table');
  const key = (f.locator as DynamoLocator).key as Record<string, AttributeValue>;
  const names = Object.keys(key ?? {}).sort();
  const expected = [info.partitionKey, info.sortKey].filter((n): n is string => !!n).sort();
  if (names.join('\u0000') !== expected.join('\u0000')) problem('has a key that is not the table primary key');
  for (const name of names) {
    const av = key[name];
    if (!av || typeof av !== 'object' || (typeof av.S !== 'string' && typeof av.N !== 'string')) problem('has a key value that is not a string or number');
  }
  if (f.id !== findingId(store.name, f.locator)) problem('does not match its locator');
}

function groupActions(store: DynamoDbStore, info: TableInfo, actions: readonly PlannedAction[]): Record<Action, Finding[]> {
  const groups: Record<Action, Finding[]> = { delete: [], anonymize: [], 'redact-mentions': [], restrict: [], unrestrict: [], keep: [] };
  const seen = new Map<string, Action>();
  for (const { finding, action } of actions) {
    checkFinding(store, info, finding);
    if (!(action in groups)) throw new InvalidInputError(`store ${store.name}: unknown action for finding ${finding.id}`, { store: store.name });
    const previous = seen.get(finding.id);
    if (previous === action) continue;
    if (previous) throw new InvalidInputError(`store ${store.name}: finding ${finding.id} has two actions (${previous}, ${action})`, { store: store.name });
    seen.set(finding.id, action);
    groups[action].push(finding);
  }
  if (groups.anonymize.length > 0 && store.erase.mode !== 'anonymize') {
    throw new InvalidInputError(`store ${store.name}: anonymize needs erase.mode "anonymize" with the fields to anonymize`, { store: store.name });
  }
  if (groups['redact-mentions'].length > 0 && !store.thirdParty) {
    throw new InvalidInputError(`store ${store.name}: redact-mentions needs a thirdParty.redact section`, { store: store.name });
  }
  return groups;
}

/** Field → new value (`undefined`: remove it), for the fields an update changes. */
type Changes = Map<string, AttributeValue | undefined>;
type ComputeChanges = (item: Item) => Changes;

function anonymizeChanges(store: DynamoDbStore, info: TableInfo, anonymizer: Anonymizer): ComputeChanges {
  const fields = store.erase.mode === 'anonymize' ? store.erase.fields : {};
  refuseKeyFields(store, info, Object.keys(fields));
  return (item) => {
    const changes: Changes = new Map();
    for (const [field, strategy] of Object.entries(fields)) {
      if (item[field] === undefined) continue;
      const next = anonymizeValue(strategy, item[field], anonymizer);
      if (!sameValue(next, item[field])) changes.set(field, next);
    }
    return changes;
  };
}

/**
 * redact-mentions: a redact field that is a lookup attribute (an identifier) is changed only
 * where it holds the subject's value (in a list or set: only those elements), so the other
 * person's own values stay. A redact field that is not an identifier (the name on a contact
 * card) describes the person the record mentions: it is redacted when the record still
 * mentions the subject through a third-party lookup, and left alone otherwise.
 */
function redactChanges(store: DynamoDbStore, info: TableInfo, identity: Identity, anonymizer: Anonymizer): ComputeChanges {
  const fields = store.thirdParty?.redact ?? {};
  refuseKeyFields(store, info, Object.keys(fields));
  const lookupAttributes = new Set(store.lookups.map((l) => l.attribute));
  const thirdParty = store.lookups.map((l, i) => (l.role === 'third-party' ? i : -1)).filter((i) => i >= 0);
  return (item) => {
    const changes: Changes = new Map();
    const mentions = matchingLookups(store, identity, item, thirdParty).length > 0;
    for (const [field, strategy] of Object.entries(fields)) {
      if (item[field] === undefined) continue;
      let next: AttributeValue | undefined;
      if (lookupAttributes.has(field)) next = anonymizeValue(strategy, item[field], anonymizer, subjectValuesFor(store, identity, field));
      else if (mentions) next = anonymizeValue(strategy, item[field], anonymizer);
      else continue;
      if (!sameValue(next, item[field])) changes.set(field, next);
    }
    return changes;
  };
}

function refuseKeyFields(store: DynamoDbStore, info: TableInfo, fields: readonly string[]): void {
  for (const field of fields) {
    if (field === info.partitionKey || field === info.sortKey) {
      throw new DataMapError(`store ${store.name}: ${field} is part of the primary key and cannot be anonymized in place; use erase mode "delete"`, { store: store.name });
    }
  }
}

/**
 * The anonymized form of one attribute. With `only`, just the strings in `only` change (a
 * string equal to one, or those elements of a list or set); without, the whole value.
 */
function anonymizeValue(strategy: Anonymization, av: AttributeValue, anonymizer: Anonymizer, only?: SubjectValues): AttributeValue | undefined {
  const one = (value: unknown): AttributeValue | undefined => replacementValue(anonymizer.apply(strategy, value));
  const hit = (text: string): boolean => !only || only.has(text);
  if (av.S !== undefined) return hit(av.S) ? one(av.S) : av;
  if (av.N !== undefined) return hit(av.N) ? one(toPlain(av)) : av;
  if (av.SS !== undefined) {
    const next = new Set<string>();
    for (const s of av.SS) {
      if (!hit(s)) next.add(s);
      else {
        const r = one(s);
        if (r !== undefined) next.add(r.S ?? r.N ?? JSON.stringify(toPlain(r)));
      }
    }
    return next.size > 0 ? { SS: [...next] } : undefined;
  }
  if (av.L !== undefined) {
    if (only) return { L: av.L.map((e) => (e.S !== undefined && only.has(e.S) ? (one(e.S) ?? { NULL: true }) : e)) };
    if (strategy.strategy === 'null') return undefined;
    return { L: av.L.map((e) => one(toPlain(e)) ?? { NULL: true }) };
  }
  return only ? av : one(toPlain(av));
}

function sameValue(a: AttributeValue | undefined, b: AttributeValue | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return JSON.stringify(toPlain(a)) === JSON.stringify(toPlain(b)) && Object.keys(a)[0] === Object.keys(b)[0];
}

/**
 * Reads (or takes the pre-read item), computes the changes, and writes them with a condition
 * that the item exists and the changed fields still hold what was read: a vanished item is
 * reported missing, never recreated; an item changed meanwhile is read again.
 */
async function rewriteItem(
  store: DynamoDbStore,
  info: TableInfo,
  client: DynamoDBClient,
  finding: Finding,
  preRead: Item | undefined,
  compute: ComputeChanges,
  attempts: number,
): Promise<'applied' | 'missing'> {
  const key = locatorKey(finding);
  let item = preRead;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    if (attempt > 1) {
      const out = await guard(store, 'GetItem', () => client.send(new GetItemCommand({ TableName: store.table, Key: key, ConsistentRead: true })));
      item = out.Item;
    }
    if (!item) return 'missing';
    const current = item;
    const changes = compute(current);
    if (changes.size === 0) return 'applied';
    const names: Record<string, string> = { '#pk': info.partitionKey };
    const values: Record<string, AttributeValue> = {};
    const sets: string[] = [];
    const removes: string[] = [];
    const conditions = ['attribute_exists(#pk)'];
    [...changes].forEach(([field, next], i) => {
      names[`#f${i}`] = field;
      values[`:o${i}`] = current[field];
      conditions.push(`#f${i} = :o${i}`);
      if (next === undefined) removes.push(`#f${i}`);
      else {
        values[`:n${i}`] = next;
        sets.push(`#f${i} = :n${i}`);
      }
    });
    const update = [sets.length ? `SET ${sets.join(', ')}` : '', removes.length ? `REMOVE ${removes.join(', ')}` : ''].filter(Boolean).join(' ');
    const ok = await conditionalUpdate(store, client, {
      TableName: store.table,
      Key: key,
      UpdateExpression: update,
      ConditionExpression: conditions.join(' AND '),
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    });
    if (ok) return 'applied';
  }
  throw new ConcurrentModificationError(`store ${store.name}: finding ${finding.id} kept changing during the update (${attempts} attempts)`, {
    store: store.name,
    findingId: finding.id,
  });
}

async function setMarker(store: DynamoDbStore, info: TableInfo, ctx: ConnectorContext, finding: Finding, restrict: boolean): Promise<'applied' | 'missing'> {
  const ok = await conditionalUpdate(store, ctx.dynamodb, {
    TableName: store.table,
    Key: locatorKey(finding),
    // Restricting twice keeps the first time: the restriction started then.
    UpdateExpression: restrict ? 'SET #m = if_not_exists(#m, :m)' : 'REMOVE #m',
    ConditionExpression: 'attribute_exists(#pk)',
    ExpressionAttributeNames: { '#pk': info.partitionKey, '#m': RESTRICTION_MARKER },
    ...(restrict ? { ExpressionAttributeValues: { ':m': { M: { at: { S: ctx.now.toISOString() }, reason: { S: RESTRICTION_REASON } } } } } : {}),
  });
  return ok ? 'applied' : 'missing';
}

/** UpdateItem; `false` when its condition failed. */
async function conditionalUpdate(store: DynamoDbStore, client: DynamoDBClient, input: ConstructorParameters<typeof UpdateItemCommand>[0]): Promise<boolean> {
  try {
    await client.send(new UpdateItemCommand(input));
    return true;
  } catch (err) {
    if ((err as Error).name === 'ConditionalCheckFailedException') return false;
    throw new StoreUnavailableError(store.name, `UpdateItem failed (${(err as Error).name})`, { cause: err });
  }
}

/** SDK errors become StoreUnavailable naming the operation; our own errors pass through. */
async function guard<T>(store: DynamoDbStore, operation: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof StoreUnavailableError || err instanceof DataMapError) throw err;
    throw new StoreUnavailableError(store.name, `${operation} failed (${(err as Error).name})`, { cause: err });
  }
}

function unique<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}

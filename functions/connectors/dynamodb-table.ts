/**
 * What discovery needs to know about a table before it reads: its real key schema and indexes
 * (checked against the data map, so a wrong map fails loudly instead of finding nothing), the
 * key attribute types, and each index's projection (whether its items are complete).
 */
import { DescribeTableCommand, type DynamoDBClient, type KeySchemaElement, type Projection } from '@aws-sdk/client-dynamodb';
import type { DynamoDbStore } from '../core/datamap';
import { DataMapError, StoreUnavailableError } from '../core/errors';

export interface IndexInfo {
  readonly name: string;
  readonly partitionKey: string;
  readonly sortKey?: string;
  readonly projection: 'ALL' | 'KEYS_ONLY' | 'INCLUDE';
  readonly nonKeyAttributes: readonly string[];
}

export interface TableInfo {
  readonly table: string;
  readonly partitionKey: string;
  readonly sortKey?: string;
  /** Types of the key attributes of the table and its indexes. */
  readonly attributeTypes: Readonly<Record<string, 'S' | 'N' | 'B'>>;
  readonly indexes: ReadonlyMap<string, IndexInfo>;
}

export type Lookup = DynamoDbStore['lookups'][number];

/** How one lookup of the data map is read. */
export interface LookupPlan {
  readonly lookup: Lookup;
  /** Position in `store.lookups`. */
  readonly position: number;
  readonly via: 'table' | 'index' | 'scan';
  readonly indexName?: string;
  /** Type of the key attribute queried (scans compare strings). */
  readonly keyType: 'S' | 'N';
  /** The read returns whole items (table, scan, or an index projecting everything needed). */
  readonly complete: boolean;
}

// Per client: a table's key schema and projections do not change under a running connector.
const cache = new WeakMap<DynamoDBClient, Map<string, Promise<TableInfo>>>();

export function describeTable(client: DynamoDBClient, store: DynamoDbStore): Promise<TableInfo> {
  let tables = cache.get(client);
  if (!tables) {
    tables = new Map();
    cache.set(client, tables);
  }
  const cached = tables.get(store.table);
  if (cached) return cached;
  const pending = readTable(client, store);
  tables.set(store.table, pending);
  pending.catch(() => tables.delete(store.table));
  return pending;
}

async function readTable(client: DynamoDBClient, store: DynamoDbStore): Promise<TableInfo> {
  let description;
  try {
    description = (await client.send(new DescribeTableCommand({ TableName: store.table }))).Table;
  } catch (err) {
    const name = (err as Error).name;
    if (name === 'ResourceNotFoundException') {
      throw new DataMapError(`store ${store.name}: table ${store.table} does not exist`, { store: store.name }, { cause: err });
    }
    throw new StoreUnavailableError(store.name, `DescribeTable failed (${name})`, { cause: err });
  }
  if (!description?.KeySchema) throw new StoreUnavailableError(store.name, 'DescribeTable returned no key schema');
  const keys = keyNames(description.KeySchema);
  const attributeTypes: Record<string, 'S' | 'N' | 'B'> = {};
  for (const def of description.AttributeDefinitions ?? []) {
    if (def.AttributeName && def.AttributeType) attributeTypes[def.AttributeName] = def.AttributeType;
  }
  const indexes = new Map<string, IndexInfo>();
  for (const index of [...(description.GlobalSecondaryIndexes ?? []), ...(description.LocalSecondaryIndexes ?? [])]) {
    if (!index.IndexName || !index.KeySchema) continue;
    const k = keyNames(index.KeySchema);
    indexes.set(index.IndexName, { name: index.IndexName, ...k, ...projectionOf(index.Projection) });
  }
  return { table: store.table, ...keys, attributeTypes, indexes };
}

function keyNames(schema: KeySchemaElement[]): { partitionKey: string; sortKey?: string } {
  const partitionKey = schema.find((k) => k.KeyType === 'HASH')?.AttributeName ?? '';
  const sortKey = schema.find((k) => k.KeyType === 'RANGE')?.AttributeName;
  return sortKey ? { partitionKey, sortKey } : { partitionKey };
}

function projectionOf(p: Projection | undefined): { projection: IndexInfo['projection']; nonKeyAttributes: string[] } {
  return { projection: p?.ProjectionType ?? 'KEYS_ONLY', nonKeyAttributes: p?.NonKeyAttributes ?? [] };
}

/**
 * Checks the data map against the table and decides how each lookup is read. `needed` are the
 * attributes discovery reads from every hit (lookup attributes, date, marker, yields): an index
 * that does not project them all is followed by a BatchGetItem of the hits.
 */
export function planLookups(store: DynamoDbStore, info: TableInfo, needed: ReadonlySet<string>): LookupPlan[] {
  if (info.partitionKey !== store.key.partitionKey || info.sortKey !== store.key.sortKey) {
    throw new DataMapError(
      `store ${store.name}: the data map's key (${describeKey(store.key.partitionKey, store.key.sortKey)}) does not match table ${store.table} (${describeKey(info.partitionKey, info.sortKey)})`,
      { store: store.name },
    );
  }
  for (const keyAttribute of [info.partitionKey, info.sortKey]) {
    if (keyAttribute && info.attributeTypes[keyAttribute] === 'B') {
      throw new DataMapError(`store ${store.name}: key attribute ${keyAttribute} of table ${store.table} is binary, which this connector does not support`, { store: store.name });
    }
  }
  return store.lookups.map((lookup, position): LookupPlan => {
    if (lookup.index) {
      const index = info.indexes.get(lookup.index);
      if (!index) throw new DataMapError(`store ${store.name}: table ${store.table} has no index ${lookup.index}`, { store: store.name });
      if (index.partitionKey !== lookup.attribute) {
        throw new DataMapError(`store ${store.name}: index ${lookup.index} is keyed by ${index.partitionKey}, not ${lookup.attribute}`, { store: store.name });
      }
      const projected = new Set([info.partitionKey, info.sortKey, index.partitionKey, index.sortKey, ...index.nonKeyAttributes]);
      const complete = index.projection === 'ALL' || [...needed].every((a) => projected.has(a));
      return { lookup, position, via: 'index', indexName: lookup.index, keyType: keyType(store, info, lookup.attribute), complete };
    }
    if (lookup.attribute === info.partitionKey) {
      return { lookup, position, via: 'table', keyType: keyType(store, info, lookup.attribute), complete: true };
    }
    if (!store.allowScan) {
      throw new DataMapError(
        `store ${store.name}: lookup on ${lookup.attribute} is neither the table's partition key nor an index; name an index, or set allowScan: true to permit a full-table Scan`,
        { store: store.name },
      );
    }
    return { lookup, position, via: 'scan', keyType: 'S', complete: true };
  });
}

function keyType(store: DynamoDbStore, info: TableInfo, attribute: string): 'S' | 'N' {
  const type = info.attributeTypes[attribute];
  if (type === 'B') throw new DataMapError(`store ${store.name}: key attribute ${attribute} is binary; identifiers are strings`, { store: store.name });
  return type ?? 'S';
}

function describeKey(pk: string, sk?: string): string {
  return sk ? `${pk} + ${sk}` : pk;
}

/**
 * Setting one attribute of a subject's own DynamoDB items: what a consent withdrawal writes
 * (`marketingConsent`, `consent.analytics`, a consent table's `status`). The items are found by
 * a consistent Query of the table's partition key through the store's owner lookups, reading
 * only the key, the attribute and the `where` attribute; each is written with an UpdateItem
 * that SETs exactly that attribute on condition that it still holds the value read, so nothing
 * else on the item changes and a concurrent change is never overwritten. Setting a value the
 * attribute already holds writes nothing: a retried or resumed request does not apply twice.
 *
 * Errors and logs name the store and counts, never a key or a value.
 */
import { ConditionalCheckFailedException, GetItemCommand, paginateQuery, UpdateItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import type { DynamoDbStore } from '../core/datamap';
import { ConcurrentModificationError, StoreUnavailableError } from '../core/errors';
import { findingId } from '../core/hash';
import { describeTable } from './dynamodb-table';
import { isCanonicalNumber, keyOf, keyString, toPlain, type Item } from './dynamodb-values';
import type { AttributeChange, AttributeTarget, ConnectorContext, DynamoLocator, Identity } from './types';

/** How often an item whose attribute changed between read and write is read again. */
const ATTEMPTS = 3;

interface Path {
  /** `#c0.#c1`, with the names in `names`. */
  readonly expression: string;
  readonly names: Record<string, string>;
  readonly segments: readonly string[];
}

function pathOf(attribute: string, prefix: string): Path {
  const segments = attribute.split('.');
  const names = Object.fromEntries(segments.map((s, i) => [`#${prefix}${i}`, s]));
  return { expression: segments.map((_s, i) => `#${prefix}${i}`).join('.'), names, segments };
}

/** The value at a dotted path of an item, or undefined where a segment is absent or not a map. */
/** A ProjectionExpression of dotted paths, with one placeholder per distinct name; a path inside another is read through it. */
function projectionOf(paths: readonly string[]): { projection: string; names: { key: string; placeholders: Record<string, string> } } {
  const byName = new Map<string, string>();
  const placeholder = (n: string) => {
    if (!byName.has(n)) byName.set(n, `#n${byName.size}`);
    return byName.get(n)!;
  };
  const unique = [...new Set(paths)];
  const kept = unique.filter((p) => !unique.some((q) => q !== p && p.startsWith(`${q}.`)));
  const projection = kept.map((p) => p.split('.').map(placeholder).join('.')).join(', ');
  const key = placeholder(paths[0]);
  return { projection, names: { key, placeholders: Object.fromEntries([...byName].map(([n, ph]) => [ph, n])) } };
}

function valueAt(item: Item, segments: readonly string[]): AttributeValue | undefined {
  let current: AttributeValue | undefined = { M: item };
  for (const s of segments) {
    current = current?.M?.[s];
    if (current === undefined) return undefined;
  }
  return current;
}

function attributeValue(value: boolean | string): AttributeValue {
  return typeof value === 'boolean' ? { BOOL: value } : { S: value };
}

function sameValue(a: AttributeValue, b: AttributeValue): boolean {
  return JSON.stringify(toPlain(a)) === JSON.stringify(toPlain(b)) && Object.keys(a)[0] === Object.keys(b)[0];
}

export async function setAttribute(store: DynamoDbStore, identity: Identity, target: AttributeTarget, ctx: ConnectorContext): Promise<AttributeChange[]> {
  const info = await describeTable(ctx.dynamodb, store);
  const path = pathOf(target.attribute, 'c');
  const where = target.where ? pathOf(target.where.attribute, 'w') : undefined;
  // Read only the key, the attribute and the filter's attribute (one path each, none inside another).
  const { projection, names } = projectionOf([info.partitionKey, ...(info.sortKey ? [info.sortKey] : []), target.attribute, ...(target.where ? [target.where.attribute] : [])]);
  const keyType = info.attributeTypes[info.partitionKey] === 'N' ? 'N' : 'S';

  const items = new Map<string, Item>();
  for (const lookup of store.lookups.filter((l) => l.role === 'owner' && !l.index && l.attribute === info.partitionKey)) {
    for (const value of new Set(identity[lookup.identifier] ?? [])) {
      if (value === '' || (keyType === 'N' && !isCanonicalNumber(value))) continue;
      await guard(store, 'Query', async () => {
        const input = {
          TableName: store.table,
          KeyConditionExpression: `${names.key} = :pk`,
          ProjectionExpression: projection,
          ExpressionAttributeNames: names.placeholders,
          ExpressionAttributeValues: { ':pk': keyType === 'N' ? { N: value } : { S: value } },
          ConsistentRead: true,
        };
        for await (const page of paginateQuery({ client: ctx.dynamodb }, input)) {
          for (const item of page.Items ?? []) items.set(keyString(keyOf(item, info.partitionKey, info.sortKey)), item);
        }
      });
    }
  }

  const wanted = attributeValue(target.value);
  const changes: AttributeChange[] = [];
  for (const [, item] of [...items].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (where && target.where && valueAt(item, where.segments)?.S !== target.where.equals) continue;
    const key = keyOf(item, info.partitionKey, info.sortKey);
    const locator: DynamoLocator = { type: 'dynamodb', table: store.table, key };
    changes.push(await setOne(store, key, path, item, wanted, findingId(store.name, locator), ctx));
  }
  ctx.log('consent attribute set', { store: store.name, items: changes.length, changed: changes.filter((c) => c.status === 'changed').length });
  return changes;
}

/** One item: write on condition that the attribute holds what was read; read again if it changed meanwhile. */
async function setOne(store: DynamoDbStore, key: Item, path: Path, read: Item, wanted: AttributeValue, itemRef: string, ctx: ConnectorContext): Promise<AttributeChange> {
  let item = read;
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const before = valueAt(item, path.segments);
    if (before === undefined) return { itemRef, status: 'absent', before: undefined, after: undefined };
    if (sameValue(before, wanted)) return { itemRef, status: 'unchanged', before: toPlain(before), after: toPlain(before) };
    try {
      await ctx.dynamodb.send(
        new UpdateItemCommand({
          TableName: store.table,
          Key: key,
          UpdateExpression: `SET ${path.expression} = :after`,
          ConditionExpression: `${path.expression} = :before`,
          ExpressionAttributeNames: path.names,
          ExpressionAttributeValues: { ':after': wanted, ':before': before },
        }),
      );
      return { itemRef, status: 'changed', before: toPlain(before), after: toPlain(wanted) };
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException) && (err as Error).name !== 'ConditionalCheckFailedException') {
        throw new StoreUnavailableError(store.name, `UpdateItem failed (${(err as Error).name})`, { cause: err });
      }
      const again = await reread(store, key, path, ctx);
      // The item went away meanwhile: nothing left to withdraw on it.
      if (!again) return { itemRef, status: 'absent', before: undefined, after: undefined };
      item = again;
    }
  }
  throw new ConcurrentModificationError(`store ${store.name}: a consent attribute kept changing while it was being set`, { store: store.name, attempts: ATTEMPTS });
}

async function reread(store: DynamoDbStore, key: Item, path: Path, ctx: ConnectorContext): Promise<Item | undefined> {
  return guard(store, 'GetItem', async () => {
    const out = await ctx.dynamodb.send(new GetItemCommand({ TableName: store.table, Key: key, ProjectionExpression: path.expression, ExpressionAttributeNames: path.names, ConsistentRead: true }));
    return out.Item ? { ...out.Item } : undefined;
  });
}

async function guard<T>(store: DynamoDbStore, operation: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof StoreUnavailableError) throw err;
    throw new StoreUnavailableError(store.name, `${operation} failed (${(err as Error).name})`, { cause: err });
  }
}

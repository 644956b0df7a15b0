/** DynamoDB primary keys: the key attributes of an item, and a string for maps and de-duplication. */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { canonicalJson } from '../core/hash';

export type Item = Record<string, AttributeValue>;

/** The primary key of an item: only the key attributes, in DynamoDB JSON. */
export function keyOf(item: Item, partitionKey: string, sortKey?: string): Item {
  const key: Item = { [partitionKey]: item[partitionKey] };
  if (sortKey) key[sortKey] = item[sortKey];
  return key;
}

/** A string equal for equal keys whatever the attribute order: for maps and de-duplication. */
export function keyString(key: Item): string {
  return canonicalJson(
    Object.fromEntries(
      Object.entries(key).map(([name, av]) => [name, av.B !== undefined ? { B: Buffer.from(av.B).toString('base64') } : av]),
    ),
  );
}

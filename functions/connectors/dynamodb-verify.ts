/**
 * Findings handed back to the connector (by apply and export) come from outside it: each is
 * checked to be this store's own, on its table, with a whole primary key, before any request
 * uses its key.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { DynamoDbStore } from '../core/datamap';
import { InvalidInputError } from '../core/errors';
import { findingId } from '../core/hash';
import type { TableInfo } from './dynamodb-table';
import type { Item } from './dynamodb-values';
import type { DynamoLocator, Finding } from './types';

export function locatorKey(f: Finding): Item {
  return (f.locator as DynamoLocator).key as Item;
}

/** A finding this store can act on: its own, a dynamodb locator on its table, a complete primary key. */
export function checkFinding(store: DynamoDbStore, info: TableInfo, f: Finding): void {
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

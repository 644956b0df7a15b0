/**
 * What each operation needs on a DynamoDB store: read from the store's lookups, hold flags,
 * erase mode, subject dates and expiry. Pure data, no CDK.
 */
import type { DynamoDbStore } from '../functions/core/datamap';
import { isIdentitySource } from '../functions/core/identity';
import type { StoreNeed, StoreOperation, StoreResource } from './store-needs';

/** Identity resolution (functions/core/identity.ts) runs the owner lookups of the stores that yield identifiers. */
export function takesPartInIdentity(store: DynamoDbStore): boolean {
  return isIdentitySource(store);
}

export function dynamoNeeds(store: DynamoDbStore, operation: StoreOperation): StoreNeed[] {
  const table = { type: 'table', table: store.table } as const;
  const on = (actions: string[], resource: StoreResource = table): StoreNeed => ({ store: store.name, actions, resource });
  const describe = on(['dynamodb:DescribeTable']);
  switch (operation) {
    case 'identity':
    case 'discover': {
      if (operation === 'identity' && !takesPartInIdentity(store)) return [];
      // Identity resolution follows owner records only; discovery runs every lookup.
      const lookups = operation === 'identity' ? store.lookups.filter((l) => l.role === 'owner') : store.lookups;
      const indexes = unique(lookups.flatMap((l) => (l.index ? [l.index] : [])));
      const needs = [describe];
      if (lookups.some((l) => !l.index && l.attribute === store.key.partitionKey)) needs.push(on(['dynamodb:Query']));
      for (const index of indexes) needs.push(on(['dynamodb:Query'], { type: 'index', table: store.table, index }));
      // Index hits whose projection lacks attributes discovery reads are fetched whole.
      if (indexes.length > 0) needs.push(on(['dynamodb:BatchGetItem']));
      // A lookup that is neither the partition key nor an index is a Scan, and only with allowScan.
      if (store.allowScan && lookups.some((l) => !l.index && l.attribute !== store.key.partitionKey)) needs.push(on(['dynamodb:Scan']));
      return needs;
    }
    case 'holds':
      return Object.keys(store.holdFlags).length > 0 ? [on(['dynamodb:GetItem'])] : [];
    case 'export':
      return [describe, on(['dynamodb:BatchGetItem'])];
    case 'erase': {
      // Held and retained records are restricted (UpdateItem) whatever the erase mode.
      const needs = [describe, on(['dynamodb:UpdateItem'])];
      if (store.erase.mode === 'delete') needs.push(on(['dynamodb:BatchWriteItem']));
      // Anonymizing and redacting mentions read the item first.
      if (store.erase.mode === 'anonymize' || store.thirdParty) needs.push(on(['dynamodb:GetItem', 'dynamodb:BatchGetItem']));
      return needs;
    }
    case 'restrict':
      return [describe, on(['dynamodb:UpdateItem'])];
    // A consistent Query of the partition key, a conditional UpdateItem, a GetItem when the value changed under it.
    case 'consent':
      return [describe, on(['dynamodb:Query', 'dynamodb:UpdateItem', 'dynamodb:GetItem'])];
    case 'subject-dates':
      return Object.values(store.subjectDates).map((d) => on(['dynamodb:Query'], { type: 'index', table: store.table, index: d.index }));
    case 'expire': {
      if (!store.expiry) return [];
      const find = store.expiry.method === 'index' ? on(['dynamodb:Query'], { type: 'index', table: store.table, index: store.expiry.index }) : on(['dynamodb:Scan']);
      // Held subjects' records are found as discovery finds them, so they can be kept.
      return [find, on(['dynamodb:BatchWriteItem']), ...dynamoNeeds(store, 'discover')];
    }
  }
}

function unique<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}

/**
 * Identity resolution's read of a dynamodb store (the contract's `findOwnerRecords`): the items
 * its owner lookups match, reduced to the lookups' identifier types and the strings of the
 * `yields` attributes. Kept apart from discovery (dynamodb-discover.ts); both go through
 * `findItems`.
 */
import type { DynamoDbStore } from '../core/datamap';
import { findItems } from './dynamodb-find';
import type { DynamoDbConnectorOptions } from './dynamodb-options';
import { yieldedStrings } from './dynamodb-values';
import type { Connector, OwnerRecord } from './types';

export function createDynamoDbOwnerLookup(options: DynamoDbConnectorOptions = {}): NonNullable<Connector<DynamoDbStore>['findOwnerRecords']> {
  return async (store, identity, ctx) => {
    const { items, stats } = await findItems(store, identity, ctx, { ...options, roles: ['owner'] });
    const records: OwnerRecord[] = items.map((m) => ({
      matchedBy: m.matched.map((position) => store.lookups[position].identifier),
      yielded: Object.fromEntries(Object.keys(store.yields).map((attribute) => [attribute, yieldedStrings(m.item[attribute])])),
    }));
    return { records, queries: stats.queries };
  };
}

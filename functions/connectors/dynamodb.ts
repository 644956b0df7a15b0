/**
 * The `dynamodb` connector: finds a subject's items by Query on the table's partition key or a
 * GSI (a filtered Scan only where the data map says `allowScan`), deletes them in batches,
 * anonymizes or redacts fields with conditional updates that never recreate a vanished item,
 * marks them restricted, and exports them (third-party items reduced to what is about the
 * subject).
 *
 * Logs and errors carry store names, counts and finding ids, never a key or an attribute value.
 *
 * Only the connector object lives here, so each part reads on its own: the reads in
 * dynamodb-find, then dynamodb-discover, dynamodb-apply (rewrites in dynamodb-rewrite, the
 * marker in dynamodb-restriction), dynamodb-export, and dynamodb-verify for findings handed back.
 */
import type { DynamoDbStore } from '../core/datamap';
import { applyActions } from './dynamodb-apply';
import { discoverFindings } from './dynamodb-discover';
import { exportItems } from './dynamodb-export';
import { resolveOptions, type DynamoDbConnectorOptions } from './dynamodb-options';
import type { Connector } from './types';

export { findItems, type DiscoveryStats, type FindOptions, type MatchedItem } from './dynamodb-find';
export type { DynamoDbConnectorOptions } from './dynamodb-options';
export { RESTRICTION_MARKER, RESTRICTION_REASON } from './dynamodb-restriction';

export function createDynamoDbConnector(options: DynamoDbConnectorOptions = {}): Connector<DynamoDbStore> {
  const opts = resolveOptions(options);
  return {
    kind: 'dynamodb',
    discover: (store, identity, ctx) => discoverFindings(store, identity, ctx, options),
    apply: (store, identity, actions, ctx) => applyActions(store, identity, actions, ctx, opts),
    export: (store, identity, findings, ctx) => exportItems(store, identity, findings, ctx, opts),
  };
}

/** The connector with default options. */
export const dynamodbConnector: Connector<DynamoDbStore> = createDynamoDbConnector();

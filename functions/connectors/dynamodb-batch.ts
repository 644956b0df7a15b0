/**
 * The batch reads and writes moved to functions/aws/dynamodb-batch.ts (an AWS utility that core
 * uses for the ledger too, not a connector). Re-exported here so the connector's imports stand.
 */
export * from '../aws/dynamodb-batch';

/**
 * Restriction of processing on a DynamoDB item: a marker attribute set (or removed) with a
 * conditional update, so a vanished item is reported missing and never recreated.
 */
import type { DynamoDbStore } from '../core/datamap';
import { conditionalUpdate } from './dynamodb-requests';
import type { TableInfo } from './dynamodb-table';
import { locatorKey } from './dynamodb-verify';
import type { ConnectorContext, Finding } from './types';

/**
 * The attribute that marks an item restricted. A map `{ at: <ISO time>, reason: <code> }`:
 * when and why, never who or what. The colon keeps it apart from operators' own attribute names.
 */
export const RESTRICTION_MARKER = 'dsr:restricted';
/** The reason code written into the marker. */
export const RESTRICTION_REASON = 'subject-rights-request';

export async function setMarker(store: DynamoDbStore, info: TableInfo, ctx: ConnectorContext, finding: Finding, restrict: boolean): Promise<'applied' | 'missing'> {
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

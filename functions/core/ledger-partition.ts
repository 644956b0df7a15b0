/** Reading one partition of the ledger table whole: a Query over all its pages. */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';

export interface PartitionQuery {
  /** Only the items whose sort key starts with this (a request's change receipts, a subject's requests). */
  readonly sortKeyPrefix?: string;
  /** Only the items whose sort key sorts before this. */
  readonly sortKeyBefore?: string;
  readonly filter?: string;
  readonly names?: Record<string, string>;
  readonly values?: Record<string, unknown>;
}

function keyCondition(q: PartitionQuery): { expression: string; values: Record<string, unknown> } {
  if (q.sortKeyPrefix !== undefined) return { expression: 'pk = :pk AND begins_with(sk, :prefix)', values: { ':prefix': q.sortKeyPrefix } };
  if (q.sortKeyBefore) return { expression: 'pk = :pk AND sk < :before', values: { ':before': q.sortKeyBefore } };
  return { expression: 'pk = :pk', values: {} };
}

/**
 * Every item of one ledger partition (consistent reads, all pages), optionally narrowed by sort
 * key and filtered: the holds, the deferred entries and the receipt chain are each one partition.
 */
export async function* queryPartition(rt: { dynamodb: DynamoDBClient; ledger: { table: string } }, pk: string, opts: PartitionQuery = {}): AsyncGenerator<Record<string, unknown>> {
  const doc = DynamoDBDocumentClient.from(rt.dynamodb);
  const key = keyCondition(opts);
  let start: Record<string, unknown> | undefined;
  do {
    const out = await doc.send(
      new QueryCommand({
        TableName: rt.ledger.table,
        KeyConditionExpression: key.expression,
        FilterExpression: opts.filter,
        ExpressionAttributeNames: opts.names,
        ExpressionAttributeValues: { ':pk': pk, ...key.values, ...opts.values },
        ExclusiveStartKey: start,
        ConsistentRead: true,
      }),
    );
    yield* out.Items ?? [];
    start = out.LastEvaluatedKey;
  } while (start);
}

/**
 * Reading a date index for what is past a limit: for each partition value of the index, the
 * entries dated before the cutoff, page by page. Enforcement reads subjects past a
 * subject-level limit (enforcement-subjects.ts) and records past a record-level one
 * (enforcement-purge.ts) this way: only what is past the limit is read.
 */
import { QueryCommand, type DynamoDBClient, type QueryCommandOutput } from '@aws-sdk/client-dynamodb';
import type { DateIndex } from './datamap';

export interface DateIndexRead {
  readonly table: string;
  readonly index: DateIndex;
  /** ISO instant: entries dated before it are read. */
  readonly cutoff: string;
  /** Attributes to read; absent: what the index projects. */
  readonly projection?: readonly string[];
  /** Items per page. */
  readonly pageSize?: number;
}

export async function* pagesBefore(dynamodb: DynamoDBClient, read: DateIndexRead): AsyncGenerator<QueryCommandOutput> {
  const d = read.index;
  const projected = Object.fromEntries((read.projection ?? []).map((a, i) => [`#a${i}`, a]));
  for (const value of d.partitionValues) {
    let start: QueryCommandOutput['LastEvaluatedKey'];
    do {
      const out = await dynamodb.send(
        new QueryCommand({
          TableName: read.table,
          IndexName: d.index,
          KeyConditionExpression: '#p = :p AND #d < :cutoff',
          ExpressionAttributeNames: { '#p': d.partitionKey, '#d': d.dateAttribute, ...projected },
          ExpressionAttributeValues: { ':p': { S: value }, ':cutoff': { S: read.cutoff } },
          ProjectionExpression: read.projection ? Object.keys(projected).join(', ') : undefined,
          ExclusiveStartKey: start,
          Limit: read.pageSize,
          ReturnConsumedCapacity: 'TOTAL',
        }),
      );
      yield out;
      start = out.LastEvaluatedKey;
    } while (start);
  }
}

/**
 * What a retention-enforcement purge reads, per million records, through a date index versus
 * a parallel segmented Scan, on DynamoDB Local: items read and read capacity units as
 * DynamoDB reports them (ReturnConsumedCapacity TOTAL), and the write units of the deletes.
 * Counts, not timings: they do not depend on the machine.
 *
 *   npx tsx bench/retention-enforcement.ts [--items 20000] [--expired 0.25] [--segments 4]
 *
 * The table is shaped like the reference CDR table (accountId/callId, a `startShard` +
 * `startTime` KEYS_ONLY GSI, ~300-byte items); the queries are the ones
 * functions/core/enforcement-purge.ts sends. Writes results to bench/results/retention-enforcement.json.
 */
import { BatchWriteItemCommand, CreateTableCommand, DynamoDBClient, QueryCommand, ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import fs from 'node:fs';
import path from 'node:path';
import { startDynamoDbLocal } from '../local/dynamodb';
import { freePort } from '../local/ports';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const ITEMS = arg('items', 20_000);
const EXPIRED = arg('expired', 0.25);
const SEGMENTS = arg('segments', 4);
const SHARDS = ['s0', 's1', 's2', 's3'];
const TABLE = 'bench-cdrs';
const CUTOFF = '2025-11-01T00:00:00.000Z';

async function main(): Promise<void> {
  const host = '127.0.0.1';
  const ddbLocal = await startDynamoDbLocal({ host, port: await freePort(host) });
  const client = new DynamoDBClient({ endpoint: ddbLocal.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } });
  try {
    await client.send(
      new CreateTableCommand({
        TableName: TABLE,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: ['accountId', 'callId', 'startShard', 'startTime'].map((AttributeName) => ({ AttributeName, AttributeType: 'S' as const })),
        KeySchema: [
          { AttributeName: 'accountId', KeyType: 'HASH' },
          { AttributeName: 'callId', KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: [{ IndexName: 'by-start-shard', KeySchema: [{ AttributeName: 'startShard', KeyType: 'HASH' }, { AttributeName: 'startTime', KeyType: 'RANGE' }], Projection: { ProjectionType: 'KEYS_ONLY' } }],
      }),
    );
    const expiredCount = Math.round(ITEMS * EXPIRED);
    const batch: Array<{ PutRequest: { Item: Record<string, AttributeValue> } }> = [];
    for (let i = 0; i < ITEMS; i++) {
      const old = i < expiredCount;
      const start = new Date(Date.parse(old ? '2024-06-01T00:00:00Z' : '2026-06-01T00:00:00Z') + i * 60_000).toISOString();
      batch.push({
        PutRequest: {
          Item: {
            accountId: { S: `acct-${i % 500}` },
            callId: { S: `call-${String(i).padStart(8, '0')}` },
            startShard: { S: SHARDS[i % SHARDS.length] },
            startTime: { S: start },
            callerNumber: { S: '+15145550101' },
            calleeNumber: { S: '+14385550199' },
            direction: { S: 'outbound' },
            durationSeconds: { N: String(i % 900) },
            disposition: { S: 'ANSWERED' },
            route: { S: 'carrier-a' },
            deviceId: { S: `dev-${i % 700}` },
            notes: { S: 'x'.repeat(120) },
          },
        },
      });
      if (batch.length === 25 || i === ITEMS - 1) {
        await client.send(new BatchWriteItemCommand({ RequestItems: { [TABLE]: batch.splice(0) } }));
      }
    }

    // Through the date index: only entries before the cutoff are read.
    const index = { itemsRead: 0, readUnits: 0, requests: 0 };
    for (const shard of SHARDS) {
      let start: Record<string, AttributeValue> | undefined;
      do {
        const out = await client.send(new QueryCommand({ TableName: TABLE, IndexName: 'by-start-shard', KeyConditionExpression: 'startShard = :s AND startTime < :c', ExpressionAttributeValues: { ':s': { S: shard }, ':c': { S: CUTOFF } }, ExclusiveStartKey: start, Limit: 500, ReturnConsumedCapacity: 'TOTAL' }));
        index.itemsRead += out.Count ?? 0;
        index.readUnits += out.ConsumedCapacity?.CapacityUnits ?? 0;
        index.requests++;
        start = out.LastEvaluatedKey;
      } while (start);
    }
    // Parallel segmented Scan: every item is read, the filter only trims what comes back.
    const scan = { itemsRead: 0, matched: 0, readUnits: 0, requests: 0 };
    for (let segment = 0; segment < SEGMENTS; segment++) {
      let start: Record<string, AttributeValue> | undefined;
      do {
        const out = await client.send(new ScanCommand({ TableName: TABLE, Segment: segment, TotalSegments: SEGMENTS, FilterExpression: 'startTime < :c', ProjectionExpression: 'accountId, callId', ExpressionAttributeValues: { ':c': { S: CUTOFF } }, ExclusiveStartKey: start, Limit: 500, ReturnConsumedCapacity: 'TOTAL' }));
        scan.itemsRead += out.ScannedCount ?? 0;
        scan.matched += out.Count ?? 0;
        scan.readUnits += out.ConsumedCapacity?.CapacityUnits ?? 0;
        scan.requests++;
        start = out.LastEvaluatedKey;
      } while (start);
    }
    // Deletes: one write unit per item under 1 KB, and one more for its index entry (on AWS; DynamoDB Local reports the table's).
    const perMillion = (n: number) => Math.round((n / ITEMS) * 1_000_000);
    const result = {
      measuredAt: new Date().toISOString(),
      items: ITEMS,
      expiredShare: EXPIRED,
      expired: expiredCount,
      index: { ...index, itemsReadPerMillionRecords: perMillion(index.itemsRead), readUnitsPerMillionRecords: perMillion(index.readUnits) },
      scan: { ...scan, segments: SEGMENTS, itemsReadPerMillionRecords: perMillion(scan.itemsRead), readUnitsPerMillionRecords: perMillion(scan.readUnits) },
      deletes: { writeUnitsPerMillionRecords: perMillion(expiredCount * 2), note: 'table + KEYS_ONLY GSI entry, 1 WCU each (items under 1 KB)' },
      ratio: { readUnitsScanOverIndex: index.readUnits > 0 ? Math.round((scan.readUnits / index.readUnits) * 100) / 100 : null, itemsReadScanOverIndex: Math.round((scan.itemsRead / Math.max(1, index.itemsRead)) * 100) / 100 },
    };
    fs.mkdirSync(path.join(__dirname, 'results'), { recursive: true });
    fs.writeFileSync(path.join(__dirname, 'results/retention-enforcement.json'), JSON.stringify(result, null, 2));
    console.log(JSON.stringify(result, null, 2));
  } finally {
    client.destroy();
    await ddbLocal.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});

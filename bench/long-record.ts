/**
 * One log record of N MB (JSON Lines, and a CSV row): how long discovery takes and how much
 * memory it takes, against the local S3 endpoint, next to the same bytes split into ordinary
 * lines. Run once per size, each in a fresh process so peak memory is its own:
 *
 *   npx tsx bench/long-record.ts 10 [jsonl|csv]
 *
 * Not part of `npm run bench` (a one-off for the record-length issue); prints one JSON line.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createS3RecordsConnector } from '../functions/connectors/s3-records';
import { createAnonymizer } from '../functions/core/anonymize';
import { S3RecordsStoreSchema } from '../functions/core/datamap';
import { startS3Server } from '../local/s3';

const mb = Number(process.argv[2] ?? '10');
const format = (process.argv[3] ?? 'jsonl') as 'jsonl' | 'csv';
const PHONE = '+16135550123';

function body(long: boolean): Buffer {
  const filler = 'x'.repeat(mb * 1024 * 1024);
  if (format === 'jsonl') {
    const lines = long ? [`{"ts":"2026-10-01T00:00:00Z","from":"${PHONE}","note":"${filler}"}`] : filler.match(/.{1,1000}/g)!.map((f, i) => `{"ts":"2026-10-01T00:00:00Z","from":"${i === 0 ? PHONE : '+1999'}","note":"${f}"}`);
    return Buffer.from(`{"ts":"2026-10-01T00:00:00Z","from":"+1555"}\n${lines.join('\n')}\n`);
  }
  const rows = long ? [`2026-10-01T00:00:00Z,${PHONE},"${filler}"`] : filler.match(/.{1,1000}/g)!.map((f, i) => `2026-10-01T00:00:00Z,${i === 0 ? PHONE : '+1999'},"${f}"`);
  return Buffer.from(`timestamp,from,note\n${rows.join('\n')}\n`);
}

async function main(): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dsr-long-'));
  const server = await startS3Server({ port: 0, dataDir, log: () => undefined });
  const s3 = new S3Client({ endpoint: server.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  const store = S3RecordsStoreSchema.parse({ name: 'logs', kind: 's3-records', category: 'logs', bucket: 'bench-logs', prefix: 'l/', format, compression: 'none', fields: [{ path: 'from', identifier: 'phone', match: 'token' }], erase: { mode: 'delete-record' } });
  await s3.send(new CreateBucketCommand({ Bucket: 'bench-logs' }));
  const connector = createS3RecordsConnector();
  const ctx = { s3, dynamodb: undefined as never, now: new Date(), anonymizer: createAnonymizer('bench-key-bench-key-bench-key-32'), log: () => undefined };
  const out: Record<string, unknown> = { mb, format };
  for (const long of [true, false]) {
    await s3.send(new PutObjectCommand({ Bucket: 'bench-logs', Key: 'l/one', Body: body(long) }));
    global.gc?.();
    // The process's peak RSS so far (KiB): how much discovery raises it. Sampling with a timer would
    // miss the peaks, which come during synchronous work (joins, JSON.parse).
    const peakBefore = process.resourceUsage().maxRSS;
    const started = process.hrtime.bigint();
    const found = await connector.discover(store, { phone: [PHONE] }, ctx);
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    const raised = process.resourceUsage().maxRSS - peakBefore;
    out[long ? 'oneRecord' : 'ordinaryLines'] = { seconds: +(ms / 1000).toFixed(2), peakRssRaisedMb: Math.round(raised / 1024), found: found.length };
  }
  console.log(JSON.stringify(out));
  s3.destroy();
  await server.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
}

void main();

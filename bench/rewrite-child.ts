/**
 * Child process of the memory benchmark: `idle` loads the connector and connects (the
 * baseline), `rewrite` erases a few subjects from one big log object. Prints
 * `{ maxRssMb, ms, bytes, rewritten, erased }` as its last line.
 */
import fs from 'node:fs';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createS3RecordsConnector } from '../functions/connectors/s3-records';
import type { Identity } from '../functions/connectors/types';
import { createAnonymizer } from '../functions/core/anonymize';
import { parseDataMap, type S3RecordsStore } from '../functions/core/datamap';

async function main(): Promise<void> {
  const mode = process.argv[2];
  const s3 = new S3Client({ endpoint: process.env.BENCH_S3, region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, forcePathStyle: true });
  const bucket = process.env.BENCH_BUCKET!;
  const key = process.env.BENCH_PREFIX!;
  const map = parseDataMap(JSON.parse(fs.readFileSync(`${__dirname}/../examples/voip-operator/datamap.json`, 'utf8')));
  const sip = map.stores.find((s): s is S3RecordsStore => s.name === 'sip-logs')!;
  await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  let out = { ms: 0, bytes: 0, rewritten: 0, erased: 0 };
  if (mode === 'rewrite') {
    const subjects = new Map(JSON.parse(fs.readFileSync(process.env.BENCH_SUBJECTS!, 'utf8')) as Array<[string, Identity]>);
    const connector = createS3RecordsConnector({ concurrency: 1 });
    const t = performance.now();
    const r = await connector.eraseFromStore({ ...sip, bucket, prefix: key }, subjects, { dynamodb: undefined as never, s3, now: new Date(), anonymizer: createAnonymizer('bench-hmac-key-0123456789abcdef'), log: () => undefined });
    out = { ms: performance.now() - t, bytes: r.totals.bytes, rewritten: r.rewritten, erased: [...r.erased.values()].reduce((a, b) => a + b, 0) };
  }
  s3.destroy();
  // maxRSS is in kilobytes.
  console.log(JSON.stringify({ maxRssMb: process.resourceUsage().maxRSS / 1024, ...out }));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

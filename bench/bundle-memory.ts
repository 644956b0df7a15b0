/**
 * Memory of the portability bundle: a subject with 2 GB of media (and tens of thousands of
 * records) bundled by a child process that plays the AssembleExport Lambda, its RSS sampled
 * while it streams the ZIP into a multipart upload. The S3 endpoint runs in this (parent)
 * process, so only the bundler's memory is measured.
 *
 *   npx tsx bench/bundle-memory.ts [--media-mb 2048] [--records 1] [--part-mb 8] [--verify] [--keep] [--out FILE]
 *
 * --records scales the 30,300 generated records (10,000 CDRs, 20,000 SIP log lines, 300 contacts).
 * --verify downloads the bundle and runs `unzip -t` and `dsr bundle verify` on it (with
 * --media-mb 4400 that checks ZIP64). Writes bench/results/bundle-memory.json (or --out); exits 1 when the
 * bundler grew by 256 MB or more over its baseline.
 */
import { CreateBucketCommand, HeadObjectCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { assemblePortabilityBundle } from '../functions/core/bundle';
import { verifyBundle } from '../functions/core/bundle/verify';
import type { DsrConfig } from '../functions/core/config';
import { parseDataMap } from '../functions/core/datamap';
import { hashOf } from '../functions/core/hash';
import type { Plan } from '../functions/core/plan';
import { docKeys } from '../functions/core/request-data';
import type { Runtime } from '../functions/core/runtime';
import { Workspace } from '../functions/core/workspace';
import { stagingKey, type ExportedStore } from '../functions/core/request-data';
import { startS3Server } from '../local/s3';

const argv = process.argv.slice(2);
const arg = (name: string, dflt: string): string => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : dflt;
};
const MiB = 1024 * 1024;
const REQUEST_ID = 'bench-bundle-memory';
const LIMIT_MB = 256;
const dataMap = parseDataMap(JSON.parse(fs.readFileSync(path.join(__dirname, '../examples/voip-operator/datamap.json'), 'utf8')));
const credentials = { accessKeyId: 'bench', secretAccessKey: 'bench' };

function s3Client(endpoint: string): S3Client {
  return new S3Client({ endpoint, region: 'us-east-1', credentials, forcePathStyle: true });
}

function runtimeFor(s3: S3Client): Runtime {
  const config = { dataMap, settings: { ledgerTable: 'ledger', workBucket: 'work', bundleBucket: 'bundles', verificationMaxAgeDays: 30, approvalRequired: false, bundleUrlExpirySeconds: 900, connectorConcurrency: 4 } } as DsrConfig;
  return { config, s3, workspace: new Workspace(s3, 'work'), clock: { now: () => new Date('2026-11-02T12:00:00Z') }, logger: { info: () => undefined } } as unknown as Runtime;
}

/** `size` bytes of a fixed pseudo-random block, each chunk stamped with its index, produced lazily. */
function media(size: number, seed: number): Readable {
  const block = createHash('sha512').update(String(seed)).digest();
  const chunk = Buffer.alloc(MiB);
  for (let i = 0; i < chunk.length; i++) chunk[i] = block[i % block.length] ^ (i >> 6);
  let left = size;
  let n = 0;
  return new Readable({
    read() {
      if (left === 0) return this.push(null);
      const len = Math.min(left, MiB);
      const out = Buffer.from(chunk.subarray(0, len));
      out.writeUInt32LE(n++, 0);
      left -= len;
      this.push(out);
    },
  });
}

/** The work-bucket documents of a heavy subject: media staged, records exported. */
async function prepare(s3: S3Client, mediaBytes: number, recordScale: number): Promise<{ planHash: string; files: number }> {
  const rt = runtimeFor(s3);
  for (const bucket of ['work', 'bundles']) await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  // A quarter in eight long recordings, the rest in 2 MiB recordings, voicemail and faxes.
  const big = Math.floor(mediaBytes / 4 / 8);
  const sizes: Array<{ store: string; size: number }> = Array.from({ length: 8 }, () => ({ store: 'call-recordings', size: big }));
  let left = mediaBytes - big * 8;
  for (let i = 0; left > 0; i++) {
    const size = Math.min(left, 2 * MiB);
    sizes.push({ store: ['call-recordings', 'voicemail', 'fax'][i % 3], size });
    left -= size;
  }
  const exported = new Map<string, ExportedStore['files'][number][]>();
  let done = 0;
  for (const [i, f] of sizes.entries()) {
    const name = `${f.store === 'fax' ? 'fax' : 'rec'}-${String(i).padStart(5, '0')}.${f.store === 'fax' ? 'pdf' : 'wav'}`;
    const key = stagingKey(REQUEST_ID, f.store, name);
    await new Upload({ client: s3, params: { Bucket: 'work', Key: key, Body: media(f.size, i) }, partSize: 16 * MiB, queueSize: 2 }).done();
    exported.set(f.store, [...(exported.get(f.store) ?? []), { findingId: createHash('sha256').update(key).digest('hex'), name, size: f.size, stagingKey: key, contentType: 'application/octet-stream' }]);
    const before = Math.floor(done / (256 * MiB));
    done += f.size;
    if (Math.floor(done / (256 * MiB)) > before || done === mediaBytes) console.log(`staging media: ${(done / MiB).toFixed(0)} / ${(mediaBytes / MiB).toFixed(0)} MiB`);
  }
  const phone = '+15145550100';
  const records: Record<string, ExportedStore['records'][number][]> = {
    'call-records': Array.from({ length: Math.round(10_000 * recordScale) }, (_, i) => ({ findingId: `cdr-${i}`, role: 'owner' as const, record: { accountId: 'cust-b', callId: `c-${i}`, callerNumber: phone, calleeNumber: `+1438555${String(i % 9000).padStart(4, '0')}`, startTime: new Date(Date.UTC(2026, 0, 1) + i * 3_600_000).toISOString(), durationSeconds: i % 600 } })),
    contacts: Array.from({ length: Math.round(300 * recordScale) }, (_, i) => ({ findingId: `ct-${i}`, role: 'owner' as const, record: { ownerAccountId: 'cust-b', contactId: `ct-${i}`, contactName: `Person ${i}`, contactPhone: `+1514555${String(i).padStart(4, '0')}`, label: 'mobile' } })),
    'sip-logs': Array.from({ length: Math.round(20_000 * recordScale) }, (_, i) => ({ findingId: `sip-${i}`, role: 'owner' as const, record: { ts: new Date(Date.UTC(2026, 9, 1) + i * 60_000).toISOString(), callId: `x${i}`, method: 'INVITE', from: `sip:${phone}@pbx.voip.example`, to: `sip:+1438555${String(i % 9000).padStart(4, '0')}@pbx.voip.example`, sipUser: 'b_user', sourceIp: '198.51.100.9' } })),
  };
  await rt.workspace.putJson(docKeys.identity(REQUEST_ID), { subjectId: ['cust-b'], accountId: ['cust-b'], phone: [phone], sipUsername: ['b_user'], ip: ['198.51.100.9'] });
  const plan: Plan = { requestId: REQUEST_ID, type: 'portability', createdAt: new Date().toISOString(), identityHash: 'bench', stores: dataMap.stores.map((s) => ({ store: s.name, kind: s.kind, findingsHash: 'bench', entries: [] })) };
  const planHash = await rt.workspace.putJson(docKeys.plan(REQUEST_ID, hashOf(plan)), plan);
  for (const store of dataMap.stores) {
    const doc: ExportedStore = { store: store.name, records: records[store.name] ?? [], files: exported.get(store.name) ?? [], missing: [] };
    await rt.workspace.putJson(docKeys.exported(REQUEST_ID, store.name), doc);
  }
  return { planHash, files: sizes.length };
}

/** The child: loads everything, connects, takes its baseline, then bundles while sampling RSS. */
async function child(): Promise<void> {
  const s3 = s3Client(process.env.BENCH_S3!);
  const rt = runtimeFor(s3);
  await s3.send(new HeadObjectCommand({ Bucket: 'work', Key: docKeys.identity(REQUEST_ID) }));
  await new Promise((r) => setTimeout(r, 500));
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  let atPeak = process.memoryUsage();
  const timer = setInterval(() => {
    const m = process.memoryUsage();
    if (m.rss > peak) [peak, atPeak] = [m.rss, m];
  }, 20);
  const started = performance.now();
  const result = await assemblePortabilityBundle(rt, REQUEST_ID, process.env.BENCH_PLAN_HASH!, dataMap.stores.map((s) => s.name), { partSize: Number(process.env.BENCH_PART_MB) * MiB });
  const seconds = (performance.now() - started) / 1000;
  clearInterval(timer);
  peak = Math.max(peak, process.memoryUsage().rss);
  s3.destroy();
  const mb = (n: number) => Math.round(n / MiB);
  const breakdown = { heapUsedMb: mb(atPeak.heapUsed), heapTotalMb: mb(atPeak.heapTotal), externalMb: mb(atPeak.external), arrayBuffersMb: mb(atPeak.arrayBuffers) };
  console.log(JSON.stringify({ baselineMb: baseline / MiB, peakSampledMb: peak / MiB, maxRssMb: process.resourceUsage().maxRSS / 1024, atPeak: breakdown, seconds, ...result }));
}

async function parent(): Promise<void> {
  const mediaMb = Number(arg('media-mb', '2048'));
  const partMb = Number(arg('part-mb', '8'));
  const recordScale = Number(arg('records', '1'));
  const root = path.resolve('.dsr/bench/bundle-memory');
  fs.rmSync(root, { recursive: true, force: true });
  fs.mkdirSync(root, { recursive: true });
  const server = await startS3Server({ port: 0, dataDir: path.join(root, 's3'), log: () => undefined });
  const s3 = s3Client(server.endpoint);
  try {
    const { planHash, files } = await prepare(s3, mediaMb * MiB, recordScale);
    console.log(`bundling ${files} media files (${mediaMb} MiB) and ${Math.round(30_300 * recordScale)} records in a child process…`);
    const child = spawn(process.execPath, ['--import', 'tsx', __filename, 'child'], {
      env: { ...process.env, BENCH_S3: server.endpoint, BENCH_PLAN_HASH: planHash, BENCH_PART_MB: String(partMb) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    if (code !== 0) throw new Error(`bundler child exited with ${code}`);
    const measured = JSON.parse(stdout.trim().split('\n').pop()!) as { baselineMb: number; peakSampledMb: number; maxRssMb: number; atPeak: Record<string, number>; seconds: number; bundleKey: string; bundleHash: string; bytes: number; files: number; records: number };
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'bundles', Key: measured.bundleKey }));
    const parts = Number(/-(\d+)"?$/.exec(head.ETag ?? '')?.[1] ?? 1);
    const peakMb = Math.max(measured.peakSampledMb, measured.maxRssMb);
    const result = {
      measuredAt: new Date().toISOString(),
      node: process.version,
      mediaMb,
      mediaFiles: files,
      records: measured.records,
      recordScale,
      bundleBytes: measured.bytes,
      uploadParts: parts,
      partMb,
      seconds: Math.round(measured.seconds * 10) / 10,
      baselineRssMb: Math.round(measured.baselineMb),
      peakRssMb: Math.round(peakMb),
      growthMb: Math.round(peakMb - measured.baselineMb),
      atPeak: measured.atPeak,
      limitMb: LIMIT_MB,
      verified: undefined as undefined | { unzip: string; verify: string[] },
    };
    if (argv.includes('--verify')) {
      const file = path.join(root, 'bundle.zip');
      const body = (await s3.send(new GetObjectCommand({ Bucket: 'bundles', Key: measured.bundleKey }))).Body as Readable;
      await pipeline(body, fs.createWriteStream(file));
      const unzip = spawnSync('unzip', ['-tqq', file], { encoding: 'utf8' });
      const check = await verifyBundle(file);
      result.verified = { unzip: unzip.error ? `not run: ${unzip.error.message} (apt-get install unzip)` : unzip.status === 0 ? 'ok' : `failed: ${unzip.stdout}${unzip.stderr}`, verify: check.ok ? [] : check.problems };
    }
    const outFile = path.resolve(arg('out', path.join(__dirname, 'results', 'bundle-memory.json')));
    fs.mkdirSync(path.dirname(outFile), { recursive: true });
    fs.writeFileSync(outFile, `${JSON.stringify(result, null, 2)}\n`);
    console.log(JSON.stringify(result, null, 2));
    console.log(`bundle of ${(measured.bytes / MiB).toFixed(0)} MiB in ${parts} parts, ${result.seconds} s: RSS ${result.baselineRssMb} MB → peak ${result.peakRssMb} MB (+${result.growthMb} MB; limit +${LIMIT_MB} MB)`);
    if (result.growthMb >= LIMIT_MB) process.exitCode = 1;
  } finally {
    s3.destroy();
    await server.close();
    if (!argv.includes('--keep')) fs.rmSync(root, { recursive: true, force: true });
  }
}

(process.argv[2] === 'child' ? child() : parent()).catch((err) => {
  console.error(err);
  process.exit(1);
});

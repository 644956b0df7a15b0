/**
 * `npm run bench`: the figures behind "Performance and reliability". Every figure is reported
 * next to a baseline measured in the same run on the same bytes, because absolute timings on a
 * shared machine are noise. Prints a table and writes bench/results/latest.json.
 *
 *   npm run bench -- [--only scan,batch,discovery,e2e,memory,cost] [--scale large] [--log-mb 300]
 *                    [--n 20] [--quick] [--memory-mb 1000] [--runs 2] [--out bench/results/latest.json]
 *
 * Datasets are generated once under .dsr/bench/ and reused.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, PutBucketVersioningCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { processRecords } from '../functions/connectors/s3-records-stream';
import { createS3RecordsConnector } from '../functions/connectors/s3-records';
import type { Identity } from '../functions/connectors/types';
import { createAnonymizer } from '../functions/core/anonymize';
import { RecordMatcher } from '../functions/core/matching';
import { startS3Server } from '../local/s3';
import { ensureLogDataset, type LogDataset } from './dataset';
import { runEngineBenches } from './engine';
import { benchMemory } from './rewrite-memory';
import { benchCompare } from './scan-compare';
import { identityOf, LOG_STORES, orderedSubjects, pickSubjects, rankSubjects } from './subjects';
import { timeNode, timeShell, type Timing } from './timing';

export { DATAMAP, identityOf, orderedSubjects, pickSubjects } from './subjects';

const argv = process.argv.slice(2);
const arg = (name: string, dflt: string): string => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : dflt;
};
const QUICK = argv.includes('--quick');
const ONLY = new Set(arg('only', 'scan,compare,batch,discovery,e2e,memory,cost').split(','));
/** Uncompressed MB of logs for the side-by-side comparison (generated once, cached under --root). */
const COMPARE_MB = Number(arg('compare-mb', QUICK ? '300' : '3200'));
const COMPARE_KS = arg('compare-k', QUICK ? '1,100,1000' : '1,100,1000,10000').split(',').map(Number);
const SCALE = arg('scale', 'large');
const LOG_MB = Number(arg('log-mb', QUICK ? '60' : '300'));
const RUNS = Number(arg('runs', QUICK ? '1' : '2'));
const SCAN_K = Number(arg('scan-k', '10'));
const BATCH_KS = arg('k', '1,10,100,1000').split(',').map(Number);
const BATCH_OBJECTS = Number(arg('batch-objects', QUICK ? '12' : '48'));
const MEMORY_MB = Number(arg('memory-mb', QUICK ? '200' : '1000'));
const SEED = Number(arg('seed', '42'));
const ROOT = path.resolve(arg('root', '.dsr/bench'));
const OUT = path.resolve(arg('out', 'bench/results/latest.json'));

export interface Row {
  readonly section: string;
  readonly name: string;
  readonly value: string;
  readonly baseline?: string;
  readonly ratio?: string;
  readonly note?: string;
}
const rows: Row[] = [];
const results: Record<string, unknown> = {};
export function row(r: Row): void {
  rows.push(r);
  console.log(`  ${r.section.padEnd(10)} ${r.name.padEnd(44)} ${r.value.padStart(16)} ${(r.baseline ?? '').padStart(16)} ${(r.ratio ?? '').padStart(8)}  ${r.note ?? ''}`);
}
const mb = (b: number) => b / 1e6;
const progress = (what: string) => (done: number, total: number) => {
  if (process.stdout.isTTY) process.stdout.write(`\r  ${what}: ${done}/${total} objects`);
  else if (done === total) process.stdout.write(`  ${what}: ${total} objects generated`);
};
const fmt = (n: number, d = 1) => n.toFixed(d);

async function forEachLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]);
  }));
}

async function benchScan(ds: LogDataset): Promise<void> {
  const subjects = pickSubjects(ds, SCAN_K);
  const ids = new Map(subjects.map((s) => [s.subjectId, identityOf(s)]));
  const values = [...new Set(subjects.flatMap((s) => Object.values(s.identifiers).flat()))];
  const idFile = path.join(ROOT, 'identifiers.txt');
  fs.writeFileSync(idFile, values.join('\n') + '\n');
  const gzList = path.join(ROOT, 'gz-files.txt');
  const plainList = path.join(ROOT, 'plain-files.txt');
  fs.writeFileSync(gzList, ds.objects.filter((o) => o.gzip).map((o) => o.file).join('\n') + '\n');
  fs.writeFileSync(plainList, ds.objects.filter((o) => !o.gzip).map((o) => o.file).join('\n') + '\n');
  const stored = ds.objects.reduce((a, o) => a + o.storedBytes, 0);
  const matchers = new Map([...LOG_STORES].map(([name, store]) => [name, new RecordMatcher(store.fields, ids, store.format, store.identifiers)]));

  const scan = (concurrency: number) =>
    timeNode(async () => {
      const totals = { bytes: 0, matched: 0, candidates: 0, records: 0 };
      await forEachLimit(ds.objects, concurrency, async (o) => {
        const store = LOG_STORES.get(o.store)!;
        // Default 64 KiB reads, as an S3 body arrives: a 1 MiB buffer per small object was mostly GC.
        const c = await processRecords(fs.createReadStream(o.file), { format: store.format, compression: store.compression, matcher: matchers.get(o.store)! }, () => undefined);
        totals.bytes += c.bytes;
        totals.matched += c.matched;
        totals.candidates += c.candidates;
        totals.records += c.records;
      });
      return totals;
    });
  const baselineScript = `set -o pipefail; { xargs -a '${gzList}' zcat -- ; xargs -r -a '${plainList}' cat -- ; } | LC_ALL=C grep -F -c -f '${idFile}'`;
  const best: Record<string, Timing> = {};
  const keep = (name: string, t: Timing) => {
    if (!best[name] || t.ms < best[name].ms) best[name] = { ...t, cpuMs: Math.min(t.cpuMs, best[name]?.cpuMs ?? Infinity) };
    else best[name].cpuMs = Math.min(best[name].cpuMs, t.cpuMs);
  };
  for (let r = 0; r < RUNS; r++) {
    // Interleaved, so a load spike hits both sides alike.
    keep('baseline', timeShell(baselineScript));
    keep('scan1', await scan(1));
    keep('scan2', await scan(2));
    keep('scan4', await scan(4));
  }
  const totals = best.scan1.out as { bytes: number; matched: number; candidates: number; records: number };
  const raw = totals.bytes;
  const base = best.baseline;
  const section = 'log scan';
  const baseMBs = mb(raw) / (base.ms / 1000);
  row({ section, name: `zcat|grep -F -f (${values.length} values, ${SCAN_K} subjects)`, value: `${fmt(baseMBs)} MB/s`, note: `${fmt(mb(raw))} MB raw, ${fmt(mb(stored))} MB stored, ${String(base.out)} lines matched; CPU ${fmt(mb(raw) / (base.cpuMs / 1000))} MB/CPU-s` });
  const out: Record<string, unknown> = { rawBytes: raw, storedBytes: stored, objects: ds.objects.length, values: values.length, subjects: SCAN_K, records: totals.records, candidates: totals.candidates, matched: totals.matched, baseline: { ms: base.ms, cpuMs: base.cpuMs, matchedLines: Number(base.out), mbPerSec: baseMBs } };
  for (const [key, label] of [['scan1', 'scanner, 1 object at a time'], ['scan2', 'scanner, 2 objects at a time'], ['scan4', 'scanner, 4 at a time (connector default)']] as const) {
    const t = best[key];
    const uMBs = mb(raw) / (t.ms / 1000);
    const cMBs = mb(stored) / (t.ms / 1000);
    const ratio = base.ms / t.ms;
    const cpuRatio = base.cpuMs / t.cpuMs;
    row({ section, name: label, value: `${fmt(uMBs)} MB/s`, baseline: `${fmt(baseMBs)} MB/s`, ratio: `${fmt(ratio, 2)}x`, note: `${fmt(cMBs)} MB/s compressed; per CPU-s ${fmt(cpuRatio, 2)}x baseline; ${totals.matched} records matched exactly of ${totals.candidates} candidates` });
    out[key] = { ms: t.ms, cpuMs: t.cpuMs, uncompressedMBps: uMBs, compressedMBps: cMBs, wallRatioToBaseline: ratio, cpuRatioToBaseline: cpuRatio };
  }
  results.logScan = out;
}

async function benchBatch(ds: LogDataset, server: { endpoint: string }): Promise<void> {
  const s3 = new S3Client({ endpoint: server.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, forcePathStyle: true });
  const sip = ds.objects.filter((o) => o.store === 'sip-logs').slice(0, BATCH_OBJECTS);
  const app = ds.objects.filter((o) => o.store === 'app-logs').slice(0, Math.max(1, Math.round(BATCH_OBJECTS / 24)));
  const objs = [...sip, ...app];
  const stored = objs.reduce((a, o) => a + o.storedBytes, 0);
  const connector = createS3RecordsConnector({ concurrency: 2 });
  const ctx = { dynamodb: undefined as never, s3, now: new Date(ds.report.asOf), anonymizer: createAnonymizer('bench-hmac-key-0123456789abcdef'), log: () => undefined };
  const times: Record<number, { ms: number; rewritten: number; erased: number; scanMs: number; matched: number }> = {};
  // Subjects ordered by how many records they have in these objects (a scan first), so that
  // K=1 rewrites real objects and every K erases real records.
  const ranked = await rankSubjects(ds, objs);
  try {
    for (const k of BATCH_KS) {
      if (k > ds.report.subjects.length) continue;
      const bucket = `bench-batch-k${k}-${Date.now().toString(36)}`;
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
      await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
      for (const o of objs) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: o.key, Body: fs.readFileSync(o.file) }));
      const subjects = new Map(ranked.slice(0, k).map((s) => [s.subjectId, identityOf(s)]));
      // The same pass without rewriting: what finding K subjects costs (one prefilter for all).
      const scan = await timeNode(async () => {
        let matched = 0;
        for (const store of LOG_STORES.values()) matched += (await connector.scanStore({ ...store, bucket }, subjects, ctx)).totals.matched;
        return matched;
      });
      const t = await timeNode(async () => {
        let rewritten = 0;
        let erased = 0;
        for (const store of LOG_STORES.values()) {
          const r = await connector.eraseFromStore({ ...store, bucket }, subjects, ctx);
          rewritten += r.rewritten;
          for (const n of r.erased.values()) erased += n;
        }
        return { rewritten, erased };
      });
      times[k] = { ms: t.ms, ...(t.out as { rewritten: number; erased: number }), scanMs: scan.ms, matched: scan.out as number };
    }
  } finally {
    s3.destroy();
  }
  const base = times[BATCH_KS[0]];
  for (const k of BATCH_KS) {
    const t = times[k];
    if (!t) continue;
    row({ section: 'batching', name: `find K=${k} subjects in one pass (scan)`, value: `${fmt(t.scanMs / 1000, 2)} s`, baseline: `${fmt(base.scanMs / 1000, 2)} s`, ratio: `${fmt(t.scanMs / base.scanMs, 2)}x`, note: `${objs.length} objects read, ${t.matched} records matched; per subject ${fmt(t.scanMs / k, 1)} ms` });
  }
  for (const k of BATCH_KS) {
    const t = times[k];
    if (!t) continue;
    row({ section: 'batching', name: `erase K=${k} subjects in one pass`, value: `${fmt(t.ms / 1000, 2)} s`, baseline: `${fmt(base.ms / 1000, 2)} s`, ratio: `${fmt(t.ms / base.ms, 2)}x`, note: `${t.rewritten} objects rewritten, ${t.erased} records erased; per subject ${fmt(t.ms / k, 1)} ms` });
  }
  results.batching = { objects: objs.length, storedBytes: stored, note: 'sip-logs + app-logs copies, one bucket per K; ratio = time(K) / time(K=1)', perK: times };
}

async function main(): Promise<void> {
  fs.mkdirSync(ROOT, { recursive: true });
  const started = new Date();
  const machine = { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memGb: Math.round(os.totalmem() / 2 ** 30), loadavgAtStart: os.loadavg(), node: process.version, platform: `${os.platform()} ${os.release()}` };
  console.log(`bench: node ${process.version}, ${machine.cpus} CPUs, load ${machine.loadavgAtStart.map((l) => l.toFixed(1)).join(' ')}`);
  console.log(`  ${'section'.padEnd(10)} ${'measure'.padEnd(44)} ${'value'.padStart(16)} ${'baseline'.padStart(16)} ${'ratio'.padStart(8)}  notes`);

  const needLogs = ONLY.has('scan') || ONLY.has('batch');
  const ds = needLogs
    ? await ensureLogDataset({ root: ROOT, scale: SCALE, seed: SEED, logBytes: LOG_MB * 1e6, onProgress: progress('log dataset') })
    : undefined;
  if (needLogs) process.stdout.write('\n');
  if (ds && ONLY.has('scan')) await benchScan(ds);
  if (ONLY.has('compare')) {
    const big = await ensureLogDataset({ root: ROOT, scale: SCALE, seed: SEED, logBytes: COMPARE_MB * 1e6, onProgress: progress('comparison dataset') });
    process.stdout.write('\n');
    results.compare = await benchCompare(big, { root: ROOT, stores: LOG_STORES, subjects: orderedSubjects(big, Math.max(...COMPARE_KS)), sparseSubjects: orderedSubjects(big, Math.max(...COMPARE_KS), 100), scanSubjects: pickSubjects(big, SCAN_K).map((s) => [s.subjectId, identityOf(s)] as [string, Identity]), ks: COMPARE_KS, concurrency: 4, row });
  }

  if ((ds && ONLY.has('batch')) || ONLY.has('memory')) {
    const dataDir = fs.mkdtempSync(path.join(ROOT, 's3-'));
    const server = await startS3Server({ port: 0, dataDir, log: () => undefined });
    try {
      if (ds && ONLY.has('batch')) await benchBatch(ds, server);
      if (ONLY.has('memory')) results.memory = await benchMemory(server, { root: ROOT, seed: SEED, memoryMb: MEMORY_MB, onProgress: progress('memory dataset'), row });
    } finally {
      await server.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  }
  if (ONLY.has('discovery') || ONLY.has('e2e') || ONLY.has('cost')) {
    Object.assign(results, await runEngineBenches({ root: ROOT, n: Number(arg('n', QUICK ? '3' : '20')), seed: SEED, only: ONLY, row }));
  }

  const doc = {
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    command: `npm run bench -- ${argv.join(' ')}`.trim(),
    machine: { ...machine, loadavgAtEnd: os.loadavg(), note: 'shared machine, other engineers running builds and tests: compare ratios, not absolute figures' },
    options: { scale: SCALE, logMb: LOG_MB, runs: RUNS, scanK: SCAN_K, batchKs: BATCH_KS, batchObjects: BATCH_OBJECTS, memoryMb: MEMORY_MB, seed: SEED },
    rows,
    results,
  };
  fs.mkdirSync(path.dirname(OUT), { recursive: true });
  fs.writeFileSync(OUT, JSON.stringify(doc, null, 2) + '\n');
  console.log(`\nwrote ${path.relative(process.cwd(), OUT)}; load at end ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}; ${execFileSync('nproc').toString().trim()} CPUs`);
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}

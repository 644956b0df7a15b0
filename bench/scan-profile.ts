/**
 * The scanner against its inflate bound on one dataset, one object at a time, as the `compare`
 * section measures it, in a process of its own: for CPU profiles and for repeated, alternating
 * runs of two versions on a loaded machine (bundle it with esbuild to run an older checkout).
 *
 *   npx tsx bench/scan-profile.ts .dsr/bench/logs-large-42-3200000000 10 scan    # K=10, the throughput rows' subjects
 *   npx tsx bench/scan-profile.ts .dsr/bench/logs-large-42-300000000 10000 k     # the K-pass subjects
 *   node --cpu-prof --import tsx bench/scan-profile.ts <dir> 10 scan 60          # the first 60 objects
 *
 * Prints one JSON line: CPU and wall time of gunzipSync over the objects and of the scan, their
 * ratios, and the records matched.
 */
import fs from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { processRecords } from '../functions/connectors/s3-records-stream';
import type { Identity } from '../functions/connectors/types';
import { RecordMatcher } from '../functions/core/matching';
import type { LogDataset } from './dataset';
import { DATAMAP, identityOf, orderedSubjects, pickSubjects } from './subjects';

async function main(): Promise<void> {
  const [dir, kArg = '10', mode = 'scan', limit] = process.argv.slice(2);
  if (!dir) throw new Error('usage: scan-profile.ts <dataset dir> [K] [scan|k] [objects]');
  const ds = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as LogDataset;
  const k = Number(kArg);
  const subjects: Array<[string, Identity]> = mode === 'scan' ? pickSubjects(ds, k).map((s) => [s.subjectId, identityOf(s)]) : orderedSubjects(ds, k);
  const stores = new Map(DATAMAP.stores.flatMap((s) => (s.kind === 's3-records' ? [[s.name, s] as const] : [])));
  const matchers = new Map([...stores].map(([name, s]) => [name, new RecordMatcher(s.fields, new Map(subjects), s.format, s.identifiers)]));
  const objects = ds.objects.filter((x) => x.gzip).slice(0, limit ? Number(limit) : undefined).map((x) => ({ store: x.store, body: fs.readFileSync(x.file) }));
  const cpu = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;

  let c = process.cpuUsage();
  let t = performance.now();
  let raw = 0;
  for (const x of objects) raw += gunzipSync(x.body).length;
  const bound = { cpuMs: cpu(process.cpuUsage(c)), ms: performance.now() - t };

  c = process.cpuUsage();
  t = performance.now();
  let matched = 0;
  let candidates = 0;
  for (const x of objects) {
    const store = stores.get(x.store)!;
    const body = x.body;
    const chunks = (async function* () {
      for (let i = 0; i < body.length; i += 65536) yield body.subarray(i, Math.min(body.length, i + 65536));
    })();
    const counts = await processRecords(chunks, { format: store.format, compression: store.compression, matcher: matchers.get(x.store)! }, () => undefined);
    matched += counts.matched;
    candidates += counts.candidates;
  }
  const scan = { cpuMs: cpu(process.cpuUsage(c)), ms: performance.now() - t };
  console.log(JSON.stringify({ k, mode, objects: objects.length, rawBytes: raw, bound, scan, ratioCpu: bound.cpuMs / scan.cpuMs, ratioWall: bound.ms / scan.ms, matched, candidates }));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

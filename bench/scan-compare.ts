/**
 * The log scanner side by side with its bounds, in one run on the same gzip objects and the
 * same values: Node's `zlib.gunzipSync` (the inflate bound of a Node worker on one core), the
 * scanner one object at a time and at the connector's concurrency, and the shell tools
 * (`zcat | grep -F -f`, `igzip -dc | grep -F -f`, `rg -z -F -f`). Then K subjects in one pass
 * (K = 1 / 100 / 1,000 / 10,000), bytes read per request, and the time and cost model fed with
 * the measured CPU-seconds per GB.
 *
 * Objects are read into memory before timing and fed to the scanner in 64 KiB chunks, as an S3
 * body arrives, so disk reads count on neither side. CPU time is the figure that compares on a
 * shared machine: wall time is printed too.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { settingsOf } from '../functions/connectors/s3-records-common';
import { replayRecords, RoundArena } from '../functions/connectors/s3-records-replay';
import { processRecords, type RetainedBody, type RewriteCounts } from '../functions/connectors/s3-records-stream';
import type { Identity } from '../functions/connectors/types';
import type { S3RecordsStore } from '../functions/core/datamap';
import { RecordMatcher } from '../functions/core/matching';
import type { LogDataset } from './dataset';
import { estimate, FIND_AND_FORGET, PRICES, standardScenarios } from './cost-model';
import { timeNode, timeShell, type Timing } from './timing';

const mb = (b: number): number => b / 1e6;
const fmt = (n: number, d = 0): string => n.toFixed(d);

export interface CompareOptions {
  readonly root: string;
  readonly stores: ReadonlyMap<string, S3RecordsStore>;
  /** Subjects in the order to take them (real ones with records first). */
  readonly subjects: ReadonlyArray<readonly [string, Identity]>;
  /**
   * The same number of subjects, only 100 of them with log records (the records K = 1,000
   * finds): the largest K's pass again, so the cost of K itself shows apart from the cost of
   * the records matched, which grows with the share of the population in the batch.
   */
  readonly sparseSubjects?: ReadonlyArray<readonly [string, Identity]>;
  /** Subjects whose values the throughput rows and the tools search for. */
  readonly scanSubjects: ReadonlyArray<readonly [string, Identity]>;
  readonly ks: readonly number[];
  readonly concurrency: number;
  readonly row: (r: { section: string; name: string; value: string; baseline?: string; ratio?: string; note?: string }) => void;
}


const installed = (tool: string): boolean => spawnSync('bash', ['-c', `command -v ${tool}`]).status === 0;

export async function benchCompare(ds: LogDataset, o: CompareOptions): Promise<Record<string, unknown>> {
  const section = 'compare';
  const objs = ds.objects.filter((x) => x.gzip).map((x) => ({ store: x.store, key: x.key, file: x.file, body: fs.readFileSync(x.file) }));
  const stored = objs.reduce((a, x) => a + x.body.length, 0);
  const listFile = path.join(o.root, 'compare-gz-files.txt');
  fs.writeFileSync(listFile, objs.map((x) => x.file).join('\n') + '\n');
  const matchersFor = (k: number, subjects = o.subjects) => {
    const ids = new Map(subjects.slice(0, k));
    return new Map([...o.stores].map(([name, store]) => [name, new RecordMatcher(store.fields, ids, store.format, store.identifiers)]));
  };
  const scan = (matchers: Map<string, RecordMatcher>, concurrency: number) =>
    timeNode(async () => {
      const totals = { bytes: 0, matched: 0, candidates: 0 };
      let next = 0;
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < objs.length) {
            const x = objs[next++];
            const store = o.stores.get(x.store)!;
            const body = x.body;
            const chunks = (async function* () {
              for (let i = 0; i < body.length; i += 65536) yield body.subarray(i, Math.min(body.length, i + 65536));
            })();
            const c = await processRecords(chunks, { format: store.format, compression: store.compression, matcher: matchers.get(x.store)! }, () => undefined);
            totals.bytes += c.bytes;
            totals.matched += c.matched;
            totals.candidates += c.candidates;
          }
        }),
      );
      return totals;
    });

  // The inflate bound, then the scanner, then the tools, interleaved so a load spike hits all alike.
  const bound = await timeNode(() => objs.reduce((a, x) => a + gunzipSync(x.body).length, 0));
  const raw = bound.out as number;
  const scanK = o.scanSubjects.length;
  const scanMatchers = matchersFor(scanK, o.scanSubjects);
  const values = [...new Set(o.scanSubjects.flatMap(([, id]) => Object.values(id).flat() as string[]))];
  const idFile = path.join(o.root, 'compare-values.txt');
  fs.writeFileSync(idFile, values.join('\n') + '\n');
  const one = await scan(scanMatchers, 1);
  const conc = await scan(scanMatchers, o.concurrency);
  const rate = (t: Timing) => `${fmt(mb(raw) / (t.cpuMs / 1000))} MB/CPU-s`;
  o.row({ section, name: 'zlib.gunzipSync, 1 core (the bound)', value: rate(bound), note: `${fmt(mb(raw))} MB raw, ${fmt(mb(stored))} MB gzip, ${objs.length} objects; wall ${fmt(mb(raw) / (bound.ms / 1000))} MB/s` });
  const vsBound = (t: Timing) => `${fmt(bound.cpuMs / t.cpuMs, 2)}x`;
  // gunzipSync runs on one thread, but its CPU time also counts V8's helper threads freeing its
  // buffers: the wall-clock ratio (one core each, unless the machine preempts) is the stricter one.
  const wallVsBound = (t: Timing) => `wall ratio ${fmt(bound.ms / t.ms, 2)}x`;
  const t1 = one.out as { matched: number; candidates: number };
  o.row({ section, name: `scanner, 1 object at a time (K=${scanK})`, value: rate(one), baseline: rate(bound), ratio: vsBound(one), note: `wall ${fmt(mb(raw) / (one.ms / 1000))} MB/s, ${wallVsBound(one)}; ${t1.matched} matched of ${t1.candidates} candidates; ${values.length} values` });
  o.row({ section, name: `scanner, ${o.concurrency} at a time (connector default)`, value: rate(conc), baseline: rate(bound), ratio: vsBound(conc), note: `wall ${fmt(mb(raw) / (conc.ms / 1000))} MB/s, ${wallVsBound(conc)} (wall uses both cores)` });
  const tools: Record<string, Timing | string> = {};
  const pipelines: Array<[string, string, string]> = [
    ['zcat | grep -F -f', 'zcat', `xargs -a '${listFile}' zcat -- | LC_ALL=C grep -F -c -f '${idFile}' | cat`],
    ['igzip -dc | grep -F -f', 'igzip', `xargs -a '${listFile}' igzip -dc -- | LC_ALL=C grep -F -c -f '${idFile}' | cat`],
    ['rg -z -F -f', 'rg', `xargs -a '${listFile}' rg -z -F -c --no-filename -f '${idFile}' -- | awk '{s+=$1} END {print s+0}'`],
  ];
  const packages: Record<string, string> = { zcat: 'gzip', igzip: 'isal', rg: 'ripgrep' };
  for (const [name, tool, script] of pipelines) {
    if (!installed(tool)) {
      tools[name] = `not installed (apt install ${packages[tool]})`;
      o.row({ section, name, value: 'skipped', note: tools[name] as string });
      continue;
    }
    const t = timeShell(script);
    tools[name] = t;
    o.row({ section, name, value: rate(t), baseline: rate(bound), ratio: vsBound(t), note: `wall ${fmt(mb(raw) / (t.ms / 1000))} MB/s, ${wallVsBound(t)}; ${String(t.out)} lines (fixed strings, no token boundaries)` });
  }

  // K subjects in one pass over the same objects, one object at a time.
  const perK: Record<number, Timing> = {};
  for (const k of o.ks) {
    if (k > o.subjects.length) continue;
    perK[k] = await scan(matchersFor(k), 1);
    const base = perK[o.ks[0]];
    const c = perK[k].out as { matched: number; candidates: number };
    o.row({ section: 'K-pass', name: `K=${k} subjects in one scan`, value: `${fmt(perK[k].cpuMs / 1000, 1)} CPU-s`, baseline: `${fmt(base.cpuMs / 1000, 1)} CPU-s`, ratio: `${fmt(perK[k].cpuMs / base.cpuMs, 2)}x`, note: `${rate(perK[k])}; ${c.matched} matched of ${c.candidates} candidates (1 subject in 10 has records)` });
  }
  const kMax = Math.max(...Object.keys(perK).map(Number));
  let sparse: Timing | undefined;
  if (o.sparseSubjects && kMax > 1000 && o.sparseSubjects.length >= kMax) {
    sparse = await scan(matchersFor(kMax, o.sparseSubjects), 1);
    const base = perK[o.ks[0]];
    const c = sparse.out as { matched: number; candidates: number };
    o.row({ section: 'K-pass', name: `K=${kMax}, 100 of them with records`, value: `${fmt(sparse.cpuMs / 1000, 1)} CPU-s`, baseline: `${fmt(base.cpuMs / 1000, 1)} CPU-s`, ratio: `${fmt(sparse.cpuMs / base.cpuMs, 2)}x`, note: `${rate(sparse)}; ${c.matched} matched of ${c.candidates} candidates (the records of K=1000): what K itself costs` });
  }
  const kBatch = perK[1000] ? 1000 : Math.max(...Object.keys(perK).map(Number));
  o.row({ section: 'K-pass', name: '1,000 requests: bytes read per request', value: `${fmt(mb(stored / 1000), 2)} MB`, baseline: `${fmt(mb(stored))} MB`, ratio: `${fmt(1 / 1000, 3)}x`, note: `one pass reads each object once (${fmt(mb(stored))} MB stored, ${objs.length} GETs) against one scan per request (${fmt(mb(stored) * 1000)} MB, ${objs.length * 1000} GETs)` });

  // The rewrite a K-subject erasure adds: the objects holding one of the K subjects' records are
  // rewritten with their records removed, compressed, read back and matched again to verify.
  // Read again (applyMany alone, or `roundBytes: 0`): the rewrite reads, inflates and matches the
  // object a second time. Kept (the pass's eraseMany): the scan keeps the object and the rewrite
  // replays it; its cost is what keeping adds to the scan plus the replay, compress and verify.
  // At the connector's gzip level and at level 1 (a store's `gzipLevel`). S3 aside: its
  // requests are in the model.
  const kSubjects = new Map(o.subjects.slice(0, kBatch));
  const touched = await touchedObjects(objs, o.stores, kSubjects);
  const readAgain = await measureRewrite(touched, objs.length, GZIP_LEVEL, 'read-again');
  const rewrite = await measureRewrite(touched, objs.length, GZIP_LEVEL, 'kept');
  const fastRewrite = await measureRewrite(touched, objs.length, FAST_GZIP_LEVEL, 'kept');
  const scanPerGb = perK[kBatch].cpuMs / 1000 / (raw / 1e9);
  for (const [r, level, how] of [
    [readAgain, GZIP_LEVEL, 'read again'],
    [rewrite, GZIP_LEVEL, 'kept by the scan'],
    [fastRewrite, FAST_GZIP_LEVEL, 'kept by the scan'],
  ] as const) {
    o.row({
      section: 'model',
      name: `rewrite of the objects K=${kBatch} subjects touch, ${how}, gzip level ${level}`,
      value: `${fmt(r.cpuSecondsPerUncompressedGb, 2)} CPU-s/GB`,
      baseline: `${fmt(scanPerGb, 2)} CPU-s/GB scan`,
      ratio: `${fmt(r.cpuSecondsPerUncompressedGb / scanPerGb, 2)}x`,
      note: `${r.objects} of ${objs.length} objects (${fmt(r.share * 100, 1)}%) hold a record, ${fmt(r.subjectsPerObject, 1)} subjects each; ${r.mode === 'kept' ? `keeping ${fmt(r.keepCpuSecondsPerGb, 2)} + replay, gzip, verify read (matched again)` : 'read, filter, gzip, verify read (matched again)'}; ${fmt(mb(r.gzipBytes))} MB written${level === GZIP_LEVEL ? '' : ` (${fmt((r.gzipBytes / rewrite.gzipBytes - 1) * 100, 1)}% more than level ${GZIP_LEVEL})`}`,
    });
  }

  // The model, from the measured CPU-seconds per GB of the 1,000-subject pass.
  const cpuPerGb = scanPerGb;
  const measuredAt = (r: typeof rewrite) => ({ cpuSecondsPerUncompressedGb: cpuPerGb, expansion: raw / stored, storedBytesPerObject: stored / objs.length, rewrite: { share: r.share, cpuSecondsPerUncompressedGb: r.cpuSecondsPerUncompressedGb } });
  const measured = measuredAt(rewrite);
  o.row({ section: 'model', name: `measured input (K=${kBatch}, 1 vCPU)`, value: `${fmt(cpuPerGb, 2)} CPU-s/GB`, note: `${fmt(cpuPerGb * measured.expansion, 2)} CPU-s per stored GB; gzip expands ${fmt(measured.expansion, 2)}x; ${fmt(mb(measured.storedBytesPerObject), 2)} MB per object; prices ${PRICES.region} as of ${PRICES.recordedOn}` });
  const table = standardScenarios().map((s) => estimate(measured, s));
  // At level 1 only the 100 GB rows, the ones the goal is about.
  const fastTable = standardScenarios()
    .filter((s) => s.storedBytes === 100e9)
    .map((s) => estimate(measuredAt(fastRewrite), { ...s, name: `${s.name}, gzipLevel ${FAST_GZIP_LEVEL}` }));
  for (const e of [...table, ...fastTable]) {
    o.row({ section: 'model', name: e.name, value: `${fmt(e.wallSeconds / 60, 1)} min`, baseline: `$${e.cost.total.toFixed(2)}`, note: `${e.batches} batches of ${fmt(e.uncompressedBytesPerBatch / 1e9, 1)} GB raw (${fmt(e.secondsPerBatch)} s each), ${e.waves} wave(s), ${e.rewrittenObjects} objects rewritten; Lambda $${e.cost.lambda.toFixed(2)}, Step Functions $${e.cost.stepFunctions.toFixed(2)}, S3 $${e.cost.s3.toFixed(2)}` });
  }
  for (const f of FIND_AND_FORGET) o.row({ section: 'model', name: `S3 Find and Forget: ${f.dataset}`, value: `${fmt(f.seconds / 60, 1)} min`, baseline: `$${f.usd.toFixed(2)}`, note: `published (COST_OVERVIEW), ${f.workers}` });
  for (const e of [...table, ...fastTable].filter((x) => x.storedBytes === 100e9)) {
    const met = e.wallSeconds < 180 && e.cost.total < 0.6;
    o.row({ section: 'model', name: `goal < 3 min and < $0.60: ${e.name}`, value: met ? 'met' : 'not met', note: `${fmt(e.wallSeconds / 60, 1)} min, $${e.cost.total.toFixed(2)}` });
  }

  const t = (x: Timing) => ({ ms: x.ms, cpuMs: x.cpuMs, mbPerCpuSecond: mb(raw) / (x.cpuMs / 1000) });
  return {
    rawBytes: raw,
    storedBytes: stored,
    objects: objs.length,
    values: values.length,
    bound: t(bound),
    scanOneAtATime: { ...t(one), ratioToBound: bound.cpuMs / one.cpuMs, wallRatioToBound: bound.ms / one.ms },
    scanConcurrent: { ...t(conc), concurrency: o.concurrency, ratioToBound: bound.cpuMs / conc.cpuMs },
    tools: Object.fromEntries(Object.entries(tools).map(([k, v]) => [k, typeof v === 'string' ? v : { ...t(v), ratioToBound: bound.cpuMs / v.cpuMs }])),
    perK: Object.fromEntries(Object.entries(perK).map(([k, v]) => [k, { ...t(v), ratioToK1: v.cpuMs / perK[o.ks[0]].cpuMs }])),
    readAgain,
    rewrite,
    fastRewrite: { level: FAST_GZIP_LEVEL, ...fastRewrite },
    ...(sparse ? { sparseK: { k: kMax, realSubjects: 100, ...t(sparse), ratioToK1: sparse.cpuMs / perK[o.ks[0]].cpuMs } } : {}),
    model: { measured, prices: PRICES, table, fastTable, findAndForget: FIND_AND_FORGET },
  };
}

const GZIP_LEVEL = settingsOf({}).gzipLevel;
const FAST_GZIP_LEVEL = 1;

interface HeldObject {
  readonly store: string;
  readonly body: Buffer;
}

type Touched = Awaited<ReturnType<typeof touchedObjects>>;

/** The objects that hold a record of the K subjects, with the matcher of all K for their store (found once, outside any timing). */
async function touchedObjects(objs: readonly HeldObject[], stores: ReadonlyMap<string, S3RecordsStore>, subjects: ReadonlyMap<string, Identity>) {
  const matchers = new Map([...stores].map(([name, store]) => [name, new RecordMatcher(store.fields, subjects, store.format, store.identifiers)]));
  const optsOf = (x: HeldObject, compression = stores.get(x.store)!.compression) => ({ format: stores.get(x.store)!.format, compression, matcher: matchers.get(x.store)! });
  const touched: Array<{ x: HeldObject; subjects: number; optsOf: typeof optsOf }> = [];
  for (const x of objs) {
    const refs = new Set<string>();
    await processRecords(chunked(x.body), optsOf(x), (r) => {
      for (const ref of r.matches.keys()) refs.add(ref);
    });
    if (refs.size > 0) touched.push({ x, subjects: refs.size, optsOf });
  }
  return touched;
}

/**
 * The CPU cost of rewriting the touched objects as the connector does: remove the records, gzip
 * at `level`, read back and match again to verify (the batch's matcher of all K throughout: a
 * matcher of only each object's subjects was measured 9x slower on the reference logs, 40
 * subjects per object, its compile per object dominating). `read-again`: the records come from
 * reading the object once more; `kept`: from what the scan kept (s3-records-replay.ts), plus
 * what keeping cost that scan.
 */
async function measureRewrite(touched: Touched, objectCount: number, level: number, mode: 'read-again' | 'kept') {
  let rawBytes = 0;
  let gzipBytes = 0;
  const rewriteFrom = async (x: HeldObject, optsOf: Touched[number]['optsOf'], k?: { counts: RewriteCounts; body: RetainedBody }) => {
    const out: Buffer[] = [];
    const write = (chunk: Buffer) => void out.push(Buffer.from(chunk));
    const remove = () => ({ kind: 'remove' as const });
    const counts = k ? await replayRecords(k, remove, write) : await processRecords(chunked(x.body), optsOf(x), remove, { write });
    const written = gzipSync(Buffer.concat(out), { level });
    await processRecords(chunked(written), optsOf(x, 'gzip'), () => undefined);
    return { bytes: counts.bytes, gzipBytes: written.length };
  };
  if (mode === 'read-again') {
    const timing = await timeNode(async () => {
      for (const { x, optsOf } of touched) {
        const r = await rewriteFrom(x, optsOf);
        rawBytes += r.bytes;
        gzipBytes += r.gzipBytes;
      }
    });
    return rewriteResult(mode, touched, objectCount, rawBytes, gzipBytes, timing.cpuMs, 0);
  }
  // Kept: as eraseMany does it, round by round (about roundBytes of records kept at a time), the
  // scan keeping the objects and the rewrite replaying them; minus the same scan without keeping.
  // Alternated three times, the median difference taken: keeping's own cost is small beside the
  // noise of a shared machine.
  const roundBytes = settingsOf({}).roundBytes;
  const diffs: number[] = [];
  let keepDiffs: number[] = [];
  const arena = new RoundArena();
  for (let run = 0; run < 3; run++) {
    let bytes = 0;
    let written = 0;
    let keepMs = 0;
    const pass = await timeNode(async () => {
      for (let i = 0; i < touched.length; ) {
        const round: Array<{ t: Touched[number]; k: { counts: RewriteCounts; body: RetainedBody } }> = [];
        let held = 0;
        const k0 = process.cpuUsage();
        arena.reset();
        for (; i < touched.length && (round.length === 0 || held < roundBytes); i++) {
          const t = touched[i];
          const body: RetainedBody = { chunks: [], records: [] };
          const counts = await processRecords(chunked(t.x.body), { ...t.optsOf(t.x), retain: body }, () => undefined);
          held += counts.bytes;
          round.push({ t, k: { counts, body: { chunks: arena.hold(body.chunks, counts.bytes), records: body.records } } });
        }
        const k1 = process.cpuUsage(k0);
        keepMs += (k1.user + k1.system) / 1000;
        for (const { t, k } of round) {
          const r = await rewriteFrom(t.x, t.optsOf, k);
          bytes += r.bytes;
          written += r.gzipBytes;
        }
      }
    });
    const plain = await timeNode(async () => {
      for (const { x, optsOf } of touched) await processRecords(chunked(x.body), optsOf(x), () => undefined);
    });
    diffs.push(pass.cpuMs - plain.cpuMs);
    keepDiffs.push(keepMs - plain.cpuMs);
    rawBytes = bytes;
    gzipBytes = written;
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[1];
  keepDiffs = keepDiffs.map((d) => Math.max(0, d));
  return rewriteResult(mode, touched, objectCount, rawBytes, gzipBytes, Math.max(0, median(diffs)), median(keepDiffs));
}

function rewriteResult(mode: 'read-again' | 'kept', touched: Touched, objectCount: number, rawBytes: number, gzipBytes: number, cpuMs: number, keepCpuMs: number) {
  const perGb = (ms: number) => (rawBytes === 0 ? 0 : ms / 1000 / (rawBytes / 1e9));
  return {
    mode,
    objects: touched.length,
    share: objectCount === 0 ? 0 : touched.length / objectCount,
    subjectsPerObject: touched.length === 0 ? 0 : touched.reduce((n, t) => n + t.subjects, 0) / touched.length,
    cpuSecondsPerUncompressedGb: perGb(cpuMs),
    keepCpuSecondsPerGb: perGb(keepCpuMs),
    cpuMs,
    gzipBytes,
  };
}

/** A body as an S3 response streams it: 64 KiB chunks. */
async function* chunked(body: Buffer): AsyncIterable<Uint8Array> {
  for (let i = 0; i < body.length; i += 65536) yield body.subarray(i, Math.min(body.length, i + 65536));
}

/**
 * Throughput of the s3-records scan for K = 1, 10, 100, 1000 subjects over a generated gzip
 * SIP log (JSON Lines), against `zcat | grep -F -f` over the same bytes with the same values.
 *
 *   npx tsx bench/s3-records-scan.ts [--mb 100] [--k 1,10,100,1000] [--s3] [--keep]
 *
 * Two figures per row, both of decompressed bytes, best of --runs: MB per wall-clock second,
 * and MB per CPU-second (user + system time of every thread of the process, the zlib threadpool
 * included; for the shell pipeline, of zcat and grep). On a shared machine the CPU figure is
 * the one that compares; the wall figure shows what a run took.
 *
 * Rows:
 * - gunzip only / gunzip + indexOf: the floor set by decompression in Node;
 * - gunzip + JSON.parse every line: what the prefilter avoids;
 * - engine K=n: processRecords (gunzip, framing, prefilter, parse candidates, exact match) fed
 *   from memory;
 * - s3 K=n (--s3): scanStore through the local S3 server (HTTP GetObject streaming);
 * - zcat | grep -F -f: the same values as fixed strings (no token boundaries, so a superset).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGunzip, gzipSync } from 'node:zlib';
import { Readable } from 'node:stream';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { processRecords } from '../functions/connectors/s3-records-stream';
import { createS3RecordsConnector } from '../functions/connectors/s3-records';
import type { Identity } from '../functions/connectors/types';
import { createAnonymizer } from '../functions/core/anonymize';
import { S3RecordsStoreSchema } from '../functions/core/datamap';
import { RecordMatcher } from '../functions/core/matching';
import { startS3Server } from '../local/s3';
import { rngFor } from '../examples/voip-operator/prng';

const args = process.argv.slice(2);
const arg = (name: string, dflt: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : dflt;
};
const MB = Number(arg('mb', '100'));
const KS = arg('k', '1,10,100,1000').split(',').map(Number);
const RUNS = Number(arg('runs', '2'));
const WITH_S3 = args.includes('--s3');

const STORE = S3RecordsStoreSchema.parse({
  name: 'sip-logs',
  kind: 's3-records',
  category: 'logs',
  bucket: 'bench-logs',
  prefix: 'sip/',
  format: 'jsonl',
  compression: 'gzip',
  fields: [
    { path: 'from', identifier: 'phone', match: 'token' },
    { path: 'to', identifier: 'phone', match: 'token' },
    { path: 'sipUser', identifier: 'sipUsername', match: 'value' },
    { path: 'sourceIp', identifier: 'ip', match: 'value' },
    { path: 'userAgent.deviceId', identifier: 'deviceId', match: 'value' },
  ],
  dateField: 'ts',
});

const POPULATION = 50_000;
function user(i: number) {
  return {
    phone: `+1514${String(2000000 + ((i * 7919) % 7000000)).padStart(7, '0')}`,
    sipUser: `u${(i * 104729) % 1000003}`,
    deviceId: `dev-${(i * 2654435761) % 4294967296 >>> 0}`.slice(0, 14),
    ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
  };
}

function generate(mb: number): Buffer {
  const rng = rngFor(42, 'bench-sip-log');
  const rnd = () => rng.next();
  const methods = ['INVITE', 'REGISTER', 'BYE', 'ACK', 'OPTIONS', 'CANCEL'];
  const agents = ['Yealink SIP-T46S 66.86.0.15', 'Polycom VVX 450 6.4.3', 'Grandstream GXP2170 1.0.11.3', 'Zoiper rv2.10.19.6'];
  const parts: string[] = [];
  let size = 0;
  let n = 0;
  const t0 = Date.parse('2026-11-01T00:00:00Z');
  while (size < mb * 1e6) {
    const a = user(Math.floor(rnd() * POPULATION));
    const b = user(Math.floor(rnd() * POPULATION));
    const line = JSON.stringify({
      ts: new Date(t0 + n * 11).toISOString(),
      level: rnd() < 0.95 ? 'info' : 'warn',
      method: methods[Math.floor(rnd() * methods.length)],
      callId: `${Math.floor(rnd() * 1e12).toString(36)}@pbx.voip.example`,
      from: `sip:${a.phone}@pbx.voip.example`,
      to: `sip:${b.phone}@pbx.voip.example`,
      sipUser: a.sipUser,
      sourceIp: a.ip,
      status: rnd() < 0.9 ? 200 : 486,
      userAgent: { name: agents[Math.floor(rnd() * agents.length)], deviceId: a.deviceId },
      cseq: Math.floor(rnd() * 1000),
    });
    parts.push(line, '\n');
    size += line.length + 1;
    n++;
  }
  return Buffer.from(parts.join(''));
}

function subjects(k: number): Map<string, Identity> {
  // Half of the subjects appear in the log, half do not (identifiers from outside the population).
  const m = new Map<string, Identity>();
  for (let s = 0; s < k; s++) {
    const u = s % 2 === 0 ? user(Math.floor((s * POPULATION) / Math.max(1, k))) : user(POPULATION + 100_000 + s);
    m.set(`s${s}`, { phone: [u.phone], sipUsername: [u.sipUser], deviceId: [u.deviceId], ip: [u.ip] });
  }
  return m;
}

function chunks(buf: Buffer, size = 1 << 20): AsyncIterable<Uint8Array> {
  return (async function* () {
    for (let o = 0; o < buf.length; o += size) yield buf.subarray(o, Math.min(buf.length, o + size));
  })();
}

interface Timing {
  readonly ms: number;
  readonly cpuMs: number;
  readonly out: unknown;
}

async function time(fn: () => Promise<unknown>): Promise<Timing> {
  let best: Timing = { ms: Infinity, cpuMs: Infinity, out: undefined };
  for (let r = 0; r < RUNS; r++) {
    const c0 = process.cpuUsage();
    const t = performance.now();
    const out = await fn();
    const ms = performance.now() - t;
    const c = process.cpuUsage(c0);
    const cpuMs = (c.user + c.system) / 1000;
    if (cpuMs < best.cpuMs) best = { ms, cpuMs, out };
  }
  return best;
}

/** A shell pipeline's wall time and its children's CPU time (bash `times`). */
function timeShell(cmd: string): Timing {
  let best: Timing = { ms: Infinity, cpuMs: Infinity, out: undefined };
  for (let r = 0; r < RUNS; r++) {
    const t = performance.now();
    const res = spawnSync('bash', ['-c', `${cmd}; times`], { encoding: 'utf8' });
    const ms = performance.now() - t;
    const lines = res.stdout.trim().split('\n');
    const children = (lines.at(-1) ?? '').split(/\s+/).map((v) => {
      const m = /^(\d+)m([\d.]+)s$/.exec(v);
      return m ? Number(m[1]) * 60_000 + Number(m[2]) * 1000 : 0;
    });
    const cpuMs = children[0] + children[1];
    if (cpuMs < best.cpuMs) best = { ms, cpuMs, out: lines[0] };
  }
  return best;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'dsr-bench-'));
  try {
    process.stdout.write(`generating ${MB} MB of SIP log... `);
    const raw = generate(MB);
    const gz = gzipSync(raw, { level: 6 });
    const gzFile = join(dir, 'sip.jsonl.gz');
    writeFileSync(gzFile, gz);
    const mbRaw = raw.length / 1e6;
    console.log(`${mbRaw.toFixed(1)} MB (${(gz.length / 1e6).toFixed(1)} MB gzip), ${raw.toString('latin1').split('\n').length - 1} lines; Node ${process.version}`);
    console.log(`${'run'.padEnd(36)} ${'MB/s wall'.padStart(10)} ${'MB/CPU-s'.padStart(10)}  notes`);
    const row = (name: string, t: Timing, note = '') => {
      const wall = (mbRaw / (t.ms / 1000)).toFixed(0);
      const cpu = (mbRaw / (t.cpuMs / 1000)).toFixed(0);
      console.log(`${name.padEnd(36)} ${wall.padStart(10)} ${cpu.padStart(10)}  ${note}`);
    };

    const gunzipAll = async (each: (c: Buffer) => void) => {
      const g = createGunzip({ chunkSize: 256 * 1024 });
      Readable.from(chunks(gz)).pipe(g);
      for await (const c of g) each(c as Buffer);
    };
    row('gunzip only', await time(() => gunzipAll(() => undefined)));
    const needle = Buffer.from('+15149999999');
    row('gunzip + indexOf (1 value)', await time(() => gunzipAll((c) => void c.indexOf(needle))));
    row(
      'gunzip + JSON.parse every line',
      await time(async () => {
        let rest = '';
        await gunzipAll((c) => {
          const lines = (rest + c.toString('utf8')).split('\n');
          rest = lines.pop() ?? '';
          for (const l of lines) JSON.parse(l);
        });
      }),
    );

    for (const k of KS) {
      const subs = subjects(k);
      const values = [...subs.values()].flatMap((id) => Object.values(id).flat() as string[]);
      const matcher = new RecordMatcher(STORE.fields, subs, 'jsonl');
      const t = await time(() => processRecords(chunks(gz), { format: 'jsonl', compression: 'gzip', matcher }, () => undefined));
      const c = t.out as { matched: number; candidates: number; records: number };
      row(`engine K=${k} (${values.length} values)`, t, `matched ${c.matched}, parsed ${c.candidates} of ${c.records}`);

      const patFile = join(dir, `patterns-${k}.txt`);
      writeFileSync(patFile, values.join('\n') + '\n');
      const g = timeShell(`zcat '${gzFile}' | LC_ALL=C grep -F -c -f '${patFile}'`);
      row(`zcat | grep -F -f, K=${k}`, g, `${String(g.out)} lines (no token boundaries)`);
    }

    if (WITH_S3) {
      const server = await startS3Server({ port: 0, dataDir: join(dir, 's3'), log: () => undefined });
      const s3 = new S3Client({ endpoint: server.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, forcePathStyle: true });
      try {
        await s3.send(new CreateBucketCommand({ Bucket: STORE.bucket }));
        // Four objects, as an hour's logs would be, so bounded concurrency has something to do.
        const lines = raw.toString('latin1').split('\n');
        const quarter = Math.ceil(lines.length / 4);
        for (let q = 0; q < 4; q++) {
          const part = Buffer.from(lines.slice(q * quarter, (q + 1) * quarter).join('\n') + (q === 3 ? '' : '\n'), 'latin1');
          await s3.send(new PutObjectCommand({ Bucket: STORE.bucket, Key: `sip/part-${q}.jsonl.gz`, Body: gzipSync(part) }));
        }
        const ctx = { dynamodb: undefined as never, s3, now: new Date(), anonymizer: createAnonymizer('bench-hmac-key-0123456789'), log: () => undefined };
        for (const concurrency of [1, 2]) {
          const connector = createS3RecordsConnector({ concurrency });
          for (const k of KS) {
            const subs = subjects(k);
            const t = await time(() => connector.scanStore(STORE, subs, ctx));
            const found = [...(t.out as { findings: Map<string, unknown[]> }).findings.values()].reduce((n, l) => n + l.length, 0);
            row(`s3 scanStore K=${k} conc=${concurrency}`, t, `${found} findings (CPU includes the S3 server, same process)`);
          }
        }
      } finally {
        s3.destroy();
        await server.close();
      }
    }
    console.log(`\nmachine: ${execFileSync('nproc').toString().trim()} CPUs, load ${execFileSync('cat', ['/proc/loadavg']).toString().trim()}`);
  } finally {
    if (!args.includes('--keep')) rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { CreateBucketCommand, PutBucketVersioningCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { ensureLogDataset } from './dataset';
import type { Row } from './index';
import { identityOf, pickSubjects } from './subjects';

export interface MemoryBenchOptions {
  root: string;
  seed: number;
  /** Size of the one big log object the child rewrites. */
  memoryMb: number;
  onProgress: (done: number, total: number) => void;
  row: (r: Row) => void;
}

const mb = (b: number) => b / 1e6;
const fmt = (n: number, d = 1) => n.toFixed(d);

/** Peak RSS of a child process rewriting one big log object, against the same child idle. */
export async function benchMemory(server: { endpoint: string }, o: MemoryBenchOptions): Promise<Record<string, unknown>> {
  const ds = await ensureLogDataset({ root: o.root, scale: 'small', seed: o.seed, hugeLogObjectBytes: o.memoryMb * 1e6, onProgress: o.onProgress });
  process.stdout.write('\n');
  const huge = ds.objects.reduce((a, b) => (b.storedBytes > a.storedBytes ? b : a));
  const s3 = new S3Client({ endpoint: server.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, forcePathStyle: true });
  const bucket = `bench-memory-${Date.now().toString(36)}`;
  try {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
    await new Upload({ client: s3, params: { Bucket: bucket, Key: huge.key, Body: fs.createReadStream(huge.file) }, partSize: 16 * 1024 * 1024, queueSize: 2 }).done();
  } finally {
    s3.destroy();
  }
  const subjects = pickSubjects(ds, 3);
  const subjectsFile = path.join(o.root, 'memory-subjects.json');
  fs.writeFileSync(subjectsFile, JSON.stringify(subjects.map((s) => [s.subjectId, identityOf(s)])));
  // Asynchronous: the S3 server runs in this process and must keep answering the child.
  const child = (mode: string) =>
    new Promise<{ maxRssMb: number; ms: number; bytes: number; rewritten: number; erased: number }>((resolve, reject) => {
      const proc = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'rewrite-child.ts'), mode], {
        env: { ...process.env, BENCH_S3: server.endpoint, BENCH_BUCKET: bucket, BENCH_PREFIX: huge.key, BENCH_SUBJECTS: subjectsFile },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
      proc.stderr.on('data', (c: Buffer) => (err += c.toString()));
      proc.on('error', reject);
      proc.on('close', (code) => {
        if (code !== 0) reject(new Error(`rewrite child failed (${code}): ${err}`));
        else resolve(JSON.parse(out.trim().split('\n').pop()!) as { maxRssMb: number; ms: number; bytes: number; rewritten: number; erased: number });
      });
    });
  const idle = await child('idle');
  const rewrite = await child('rewrite');
  o.row({ section: 'memory', name: `peak RSS rewriting one ${fmt(mb(rewrite.bytes), 0)} MB log object`, value: `${fmt(rewrite.maxRssMb, 0)} MB`, baseline: `${fmt(idle.maxRssMb, 0)} MB`, ratio: `${fmt(rewrite.maxRssMb / idle.maxRssMb, 2)}x`, note: `baseline: the same child loaded and connected, idle; ${fmt(huge.storedBytes / 1e6, 0)} MB gzip, ${rewrite.erased} records erased in ${fmt(rewrite.ms / 1000, 1)} s; RSS/object size ${fmt(rewrite.maxRssMb / mb(rewrite.bytes), 3)}` });
  const bundleFile = path.join(__dirname, 'results', 'bundle-memory.json');
  const bundle = fs.existsSync(bundleFile) ? (JSON.parse(fs.readFileSync(bundleFile, 'utf8')) as unknown) : undefined;
  if (!bundle) o.row({ section: 'memory', name: 'peak RSS bundling 2 GB of media', value: 'not measured', note: 'bench/bundle-memory.ts (another engineer) had not landed when this ran' });
  else {
    const b = bundle as { peakRssMb?: number; baselineRssMb?: number; mediaMb?: number; measuredAt?: string; seconds?: number };
    if (b.peakRssMb && b.baselineRssMb) {
      o.row({ section: 'memory', name: `peak RSS bundling ${b.mediaMb ?? '?'} MB of media`, value: `${b.peakRssMb} MB`, baseline: `${b.baselineRssMb} MB`, ratio: `${fmt(b.peakRssMb / b.baselineRssMb, 2)}x`, note: `from bench/results/bundle-memory.json (bench/bundle-memory.ts, measured ${b.measuredAt ?? '?'}, ${b.seconds ?? '?'} s)` });
    }
  }
  return { rewrite: { ...rewrite, objectStoredBytes: huge.storedBytes }, idleChild: idle, bundle: bundle ?? 'not measured' };
}

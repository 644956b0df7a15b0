/**
 * A whole local engine inside the test process (DynamoDB Local, the S3 and Step Functions
 * endpoints, the handlers), and a way to run `dsr` commands against it, capturing output.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { main } from '../../cli/main';
import type { SubjectsReport } from '../../examples/voip-operator/generator';
import { seedReferenceDataset } from '../../examples/voip-operator/seed';
import { startEngine, type EngineOptions, type RunningEngine } from '../../local/engine';

export interface CliRun {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

export interface TestEngine {
  readonly dataDir: string;
  readonly engine: RunningEngine;
  dsr(...args: string[]): Promise<CliRun>;
  /** Moves the engine's clock (handlers read it on every call); `undefined` = the real time. */
  setClock(at: string | undefined): void;
  stop(): Promise<void>;
}

/**
 * IAM is enforced on every engine (as on AWS). A test that means to be denied says so; for any
 * other, a denial is a bug even when the code under test tolerated it, and stop() fails.
 */
export interface TestEngineOptions extends Partial<EngineOptions> {
  readonly expectDenials?: boolean;
}

export async function startTestEngine(testOpts: TestEngineOptions = {}): Promise<TestEngine> {
  const { expectDenials, ...opts } = testOpts;
  const dataDir = opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'dsr-test-'));
  // A temporary directory is removed at stop(): the stores need not outlive the engine either.
  const engine = await startEngine({ persist: Boolean(opts.dataDir), ...opts, dataDir });
  return {
    dataDir,
    engine,
    async dsr(...args) {
      let out = '';
      let err = '';
      const code = await main(['node', 'dsr', ...args], { out: (t) => (out += t.endsWith('\n') ? t : `${t}\n`), err: (t) => (err += t.endsWith('\n') ? t : `${t}\n`) });
      return { code, out, err };
    },
    setClock(at) {
      const file = path.join(dataDir, 'clock.json');
      if (at === undefined) fs.rmSync(file, { force: true });
      else fs.writeFileSync(file, JSON.stringify({ now: at }));
    },
    async stop() {
      await engine.stop();
      if (!opts.dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
      if (!expectDenials && engine.denials.length > 0) {
        const calls = [...new Set(engine.denials.map((d) => `${d.accessKeyId} ${d.action} ${d.resource}`))];
        throw new Error(`IAM denied ${engine.denials.length} call(s) this test did not expect:\n${calls.join('\n')}`);
      }
    },
  };
}

export interface SeededEngine {
  readonly t: TestEngine;
  readonly report: SubjectsReport;
  readonly ddb: DynamoDBClient;
  readonly s3: S3Client;
  close(): Promise<void>;
}

/** An engine with its clock at `now` and the small reference dataset of `seed` loaded. */
export async function startSeededEngine(opts: { seed: number; now: string } & TestEngineOptions): Promise<SeededEngine> {
  const { seed, now, ...engineOptions } = opts;
  const t = await startTestEngine(engineOptions);
  t.setClock(now);
  const ddb = new DynamoDBClient({});
  const s3 = new S3Client({ forcePathStyle: true });
  await seedReferenceDataset({ dataDir: t.dataDir, scale: 'small', seed, clients: { dynamodb: ddb, s3 } });
  const report = JSON.parse(fs.readFileSync(path.join(t.dataDir, 'reference/subjects.json'), 'utf8')) as SubjectsReport;
  return {
    t,
    report,
    ddb,
    s3,
    async close() {
      ddb.destroy();
      s3.destroy();
      await t.stop();
    },
  };
}

/**
 * A whole local engine inside the test process (DynamoDB Local, the S3 and Step Functions
 * endpoints, the handlers), and a way to run `dsr` commands against it, capturing output.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { main } from '../../cli/main';
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

export async function startTestEngine(opts: Partial<EngineOptions> = {}): Promise<TestEngine> {
  const dataDir = opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'dsr-test-'));
  const engine = await startEngine({ ...opts, dataDir });
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
    },
  };
}

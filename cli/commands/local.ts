/** `dsr local up|down|seed`: the local engine's lifecycle and the reference dataset. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Command } from 'commander';
import { formatExports, isAlive, REPO_ROOT, startEngine } from '../../local/engine';
import { engineFiles, readEngineState } from '../../local/state';
import { CliError, EXIT, loadLocalEnv, type Printer } from '../context';

const UP_TIMEOUT_MS = 90_000;

export function localCommand(printer: Printer, setExit: (code: number) => void): Command {
  const local = new Command('local').description('run the product on this machine: DynamoDB Local, S3 and Step Functions endpoints');

  local
    .command('up')
    .description('start the local engine and print `export NAME=value` lines for eval')
    .requiredOption('--data <dir>', 'directory for the engine\'s data, logs and endpoints.env')
    .option('--detach', 'run in the background and return once it is ready')
    .option('--data-map <file>', 'data map JSON (default: the reference VoIP operator)')
    .option('--approval-required', 'erasure waits for `dsr approve`')
    .option('--verification-max-age-days <n>', 'refuse verifications older than this', parsePositiveInt)
    .action(async (opts: { data: string; detach?: boolean; dataMap?: string; approvalRequired?: boolean; verificationMaxAgeDays?: number }) => {
      const dataDir = path.resolve(opts.data);
      if (opts.detach) {
        printer.out(formatExports(await startDetached(dataDir, opts)));
        return;
      }
      const engine = await startEngine({ dataDir, dataMapFile: opts.dataMap, approvalRequired: opts.approvalRequired, verificationMaxAgeDays: opts.verificationMaxAgeDays });
      printer.out(formatExports(engine.env));
      printer.err(`dsr: local engine running (pid ${process.pid}); stop with Ctrl-C or: npx dsr local down --data ${dataDir}`);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await engine.stop();
      printer.err('dsr: local engine stopped');
    });

  local
    .command('down')
    .description('stop the local engine of a data directory (its data is kept)')
    .requiredOption('--data <dir>', 'the directory given to `local up`')
    .action(async (opts: { data: string }) => {
      const dataDir = path.resolve(opts.data);
      const state = readEngineState(dataDir);
      if (!state) {
        printer.err(`dsr: no engine is running for ${dataDir}`);
        return;
      }
      if (isAlive(state.pid)) {
        process.kill(state.pid, 'SIGTERM');
        const deadline = Date.now() + 15_000;
        while (isAlive(state.pid) && Date.now() < deadline) await sleep(100);
        if (isAlive(state.pid)) process.kill(state.pid, 'SIGKILL');
      }
      if (state.dynamodbPid && isAlive(state.dynamodbPid)) process.kill(state.dynamodbPid, 'SIGKILL');
      fs.rmSync(engineFiles(dataDir).state, { force: true });
      printer.err(`dsr: local engine for ${dataDir} stopped`);
    });

  local
    .command('seed')
    .description('fill the local stores with the reference VoIP operator\'s generated dataset')
    .requiredOption('--data <dir>', 'the directory given to `local up`')
    .option('--scale <scale>', 'small | medium | large', 'small')
    .option('--seed <n>', 'generator seed (same seed, same bytes)', parsePositiveInt, 1)
    .option('--replace', 'recreate the operator\'s tables and empty its buckets first (a store that already holds data is refused otherwise)')
    .action(async (opts: { data: string; scale: string; seed: number; replace?: boolean }) => {
      const dataDir = path.resolve(opts.data);
      const scales = ['small', 'medium', 'large'];
      if (!scales.includes(opts.scale)) throw new CliError(`unknown scale "${opts.scale}": use one of ${scales.join(', ')}`);
      loadLocalEnv(dataDir);
      // Loaded on demand: the generator is only needed here. (require, not import(): the CLI's
      // TypeScript runs through tsx's CommonJS hook.)
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { seedReferenceDataset } = require('../../examples/voip-operator/seed') as typeof import('../../examples/voip-operator/seed');
      const dynamodb = new DynamoDBClient({});
      const s3 = new S3Client({ forcePathStyle: true });
      try {
        const summary = await seedReferenceDataset({ dataDir, scale: opts.scale as 'small', seed: opts.seed, replace: opts.replace, clients: { dynamodb, s3 } });
        printer.err(`dsr: seeded the ${opts.scale} reference dataset (seed ${opts.seed}) into ${dataDir}; subjects in ${path.join(dataDir, 'reference/subjects.json')}`);
        printer.out(JSON.stringify(summary, null, 2));
      } finally {
        dynamodb.destroy();
        s3.destroy();
      }
    });
  void setExit;
  return local;
}

/** Starts `dsr local up` in a detached child and waits until it has written its state. */
export async function startDetached(dataDir: string, opts: { dataMap?: string; approvalRequired?: boolean; verificationMaxAgeDays?: number }): Promise<Record<string, string>> {
  const existing = readEngineState(dataDir);
  // Running, and really answering: a state file alone may outlive a killed engine.
  if (existing && isAlive(existing.pid) && (await answers(existing.env.AWS_ENDPOINT_URL_S3))) return existing.env;
  fs.mkdirSync(dataDir, { recursive: true });
  const files = engineFiles(dataDir);
  const log = fs.openSync(files.log, 'a');
  const args = [path.join(REPO_ROOT, 'bin/dsr.js'), 'local', 'up', '--data', dataDir];
  if (opts.dataMap) args.push('--data-map', path.resolve(opts.dataMap));
  if (opts.approvalRequired) args.push('--approval-required');
  if (opts.verificationMaxAgeDays) args.push('--verification-max-age-days', String(opts.verificationMaxAgeDays));
  const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', 'ignore', log] });
  fs.closeSync(log);
  let exitCode: number | null = null;
  child.on('exit', (code) => {
    exitCode = code ?? 1;
  });
  const deadline = Date.now() + UP_TIMEOUT_MS;
  for (;;) {
    const state = readEngineState(dataDir);
    if (state && state.pid === child.pid) {
      child.unref();
      return state.env;
    }
    if (exitCode !== null || Date.now() > deadline) {
      if (exitCode === null) child.kill('SIGTERM');
      const tail = fs.existsSync(files.log) ? fs.readFileSync(files.log, 'utf8').trim().split('\n').slice(-5).join('\n') : '';
      throw new CliError(`the local engine did not start${exitCode !== null ? ` (exit ${exitCode})` : ' in time'}:\n${tail}`, EXIT.environment);
    }
    await sleep(100);
  }
}

function answers(endpoint: string | undefined): Promise<boolean> {
  if (!endpoint) return Promise.resolve(false);
  const { hostname, port } = new URL(endpoint);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port) });
    socket.setTimeout(2000, () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new CliError(`not a non-negative integer: ${value}`);
  return n;
}

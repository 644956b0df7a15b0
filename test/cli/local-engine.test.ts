/**
 * `dsr local up|down|seed` as a user runs them: the real bin in child processes, the `aws`
 * CLI against the printed endpoints, a crashed engine, Java missing, bad input.
 */
import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const BIN = path.resolve(__dirname, '../../bin/dsr.js');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dsr-cli-'));

async function dsr(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string; err: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, timeout: 120_000 });
    return { code: 0, out: stdout, err: stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : -1, out: err.stdout ?? '', err: err.stderr ?? '' };
  }
}

function parseExports(text: string): Record<string, string> {
  return Object.fromEntries([...text.matchAll(/^export ([A-Z0-9_]+)=(.*)$/gm)].map((m) => [m[1], m[2]]));
}

function aws(env: Record<string, string>, args: string[]) {
  const r = spawnSync('aws', args, { env: { ...process.env, ...env, AWS_PAGER: '' }, encoding: 'utf8' });
  if (r.error) throw new Error('the aws CLI is needed for this test: install the Debian package awscli');
  return r;
}

afterAll(async () => {
  await dsr(['local', 'down', '--data', dir]);
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('dsr local', () => {
  let env: Record<string, string>;

  it('up --detach prints the variables the SDK and the aws CLI use, and writes them to endpoints.env', async () => {
    const up = await dsr(['local', 'up', '--data', dir, '--detach']);
    expect(up.code).toBe(0);
    env = parseExports(up.out);
    for (const name of ['AWS_ENDPOINT_URL_DYNAMODB', 'AWS_ENDPOINT_URL_S3', 'AWS_ENDPOINT_URL_SFN', 'AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'DSR_LEDGER_TABLE', 'DSR_STATE_MACHINE_ARN', 'DSR_SWEEP_STATE_MACHINE_ARN']) {
      expect(env[name]).toBeTruthy();
    }
    expect(env.AWS_ENDPOINT_URL_S3).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(fs.readFileSync(path.join(dir, 'endpoints.env'), 'utf8')).toBe(up.out);

    const tables = aws(env, ['--endpoint-url', env.AWS_ENDPOINT_URL_DYNAMODB, 'dynamodb', 'list-tables', '--output', 'json']);
    expect(JSON.parse(tables.stdout).TableNames).toContain('dsr-ledger');
    const machines = aws(env, ['--endpoint-url', env.AWS_ENDPOINT_URL_SFN, 'stepfunctions', 'list-state-machines', '--output', 'json']);
    expect(JSON.parse(machines.stdout).stateMachines.map((m: { name: string }) => m.name).sort()).toEqual(['dsr-log-erasure', 'dsr-retention-enforcement', 'dsr-retention-sweep', 'dsr-subject-request']);
  });

  it('up again on a running engine returns the same endpoints', async () => {
    const again = await dsr(['local', 'up', '--data', dir, '--detach']);
    expect(parseExports(again.out)).toEqual(env);
  });

  it('seed refuses an unknown scale, naming the valid ones', async () => {
    const r = await dsr(['local', 'seed', '--data', dir, '--scale', 'huge']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown scale "huge".*small, medium, large/);
  });

  it('survives a crash: a killed engine is restarted on the same directory with its data', async () => {
    const state = JSON.parse(fs.readFileSync(path.join(dir, 'engine.json'), 'utf8')) as { pid: number; dynamodbPid: number };
    aws(env, ['--endpoint-url', env.AWS_ENDPOINT_URL_S3, 's3api', 'put-object', '--bucket', 'dsr-work', '--key', 'kept.txt']);
    process.kill(state.pid, 'SIGKILL');
    process.kill(state.dynamodbPid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 300));
    const up = await dsr(['local', 'up', '--data', dir, '--detach']);
    expect(up.code).toBe(0);
    env = parseExports(up.out);
    const list = aws(env, ['--endpoint-url', env.AWS_ENDPOINT_URL_S3, 's3api', 'list-objects-v2', '--bucket', 'dsr-work', '--output', 'json']);
    expect({ status: list.status, stderr: list.stderr }).toEqual({ status: 0, stderr: '' });
    expect(JSON.parse(list.stdout).Contents.map((o: { Key: string }) => o.Key)).toContain('kept.txt');
  }, 120_000);

  it('down stops it; a second down says there is nothing to stop', async () => {
    const down = await dsr(['local', 'down', '--data', dir]);
    expect(down.code).toBe(0);
    expect(fs.existsSync(path.join(dir, 'engine.json'))).toBe(false);
    const again = await dsr(['local', 'down', '--data', dir]);
    expect(again.err).toMatch(/no engine is running/);
  });

  it('Java missing: a clear message with the install command, exit 3, nothing left running', async () => {
    const other = fs.mkdtempSync(path.join(os.tmpdir(), 'dsr-nojava-'));
    const r = await dsr(['local', 'up', '--data', other, '--detach'], { DSR_JAVA: '/nonexistent/java' });
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/Java was not found.*apt-get install -y default-jre-headless/s);
    expect(fs.existsSync(path.join(other, 'engine.json'))).toBe(false);
    fs.rmSync(other, { recursive: true, force: true });
  });

  it('commands without an engine say how to start one', async () => {
    const r = await dsr(['status', 'req-1'], { DSR_STATE_MACHINE_ARN: '', DSR_LEDGER_TABLE: '', DSR_LOCAL_DIR: '' });
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/dsr local up --data DIR --detach/);
  });
});

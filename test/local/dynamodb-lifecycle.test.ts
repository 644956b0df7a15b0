/**
 * A foreground DynamoDB Local must not outlive the process that started it: a bench or a test
 * run stopped with Ctrl-C or a CI timeout's SIGTERM would otherwise leave Java running.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { isAlive } from '../../local/engine';

jest.setTimeout(180_000);

async function startChild(): Promise<{ child: ReturnType<typeof spawn>; javaPid: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, '../support/dynamodb-child.ts')], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const javaPid = await new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /"javaPid":(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`child exited early (${code}): ${out}`)));
  });
  return { child, javaPid };
}

async function gone(pid: number, withinMs: number): Promise<boolean> {
  const until = Date.now() + withinMs;
  while (Date.now() < until) {
    if (!isAlive(pid)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return !isAlive(pid);
}

test.each(['SIGTERM', 'SIGINT'] as const)('%s to the parent stops Java too, and the parent still ends by that signal', async (signal) => {
  const { child, javaPid } = await startChild();
  expect(isAlive(javaPid)).toBe(true);
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, sig) => resolve(sig)));
  child.kill(signal);
  expect(await exited).toBe(signal);
  expect(await gone(javaPid, 10_000)).toBe(true);
});

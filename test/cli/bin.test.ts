/**
 * `bin/dsr.js` run by a Node older than 22 (the machine's), from outside the checkout, as
 * `npx dsr` does there: it re-runs itself on the project's own Node 22. With no Node 22 to
 * find, it says what to do and exits 2.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const BIN = path.resolve(__dirname, '../../bin/dsr.js');
const OWN_NODE = path.resolve(__dirname, '../../node_modules/node/bin/node');

/** A Node older than 22 on this machine, if there is one (Debian's is 20). */
function olderNode(): string | undefined {
  for (const candidate of ['/usr/bin/node', '/usr/local/bin/node']) {
    if (!fs.existsSync(candidate)) continue;
    const v = spawnSync(candidate, ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout.trim();
    if (Number(v.split('.')[0]) < 22) return candidate;
  }
  return undefined;
}

const old = olderNode();
const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'dsr-bin-'));
afterAll(() => fs.rmSync(cwd, { recursive: true, force: true }));

describe('bin/dsr.js', () => {
  it('the project installs its own Node 22', () => {
    expect(spawnSync(OWN_NODE, ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout).toMatch(/^22\./);
  });

  // Without an older Node on the machine there is nothing to re-run from; the case is moot.
  (old ? it : it.skip)('on an older Node, outside the checkout, re-runs on the project\'s Node 22 and keeps the exit code', () => {
    const help = spawnSync(old!, [BIN, '--help'], { cwd, encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } });
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^Usage: dsr /);
    const usage = spawnSync(old!, [BIN, 'no-such-command'], { cwd, encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } });
    expect(usage.status).toBe(2);
    expect(usage.stderr).toMatch(/unknown command 'no-such-command'/);
    const version = spawnSync(old!, [BIN, 'status', '--help'], { cwd, encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } });
    expect(version.stdout).toMatch(/where a request stands/);
  });

  (old ? it : it.skip)('with no Node 22 to run on, says so and exits 2', () => {
    const r = spawnSync(old!, [BIN, '--help'], { cwd, encoding: 'utf8', env: { PATH: '/usr/bin:/bin', DSR_REEXEC: '1' } });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/dsr needs Node\.js 22 or later \(this is v\d+/);
  });
});

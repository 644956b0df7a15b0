/** Wall and CPU time of a Node call or a shell pipeline, the two kinds of row the bench compares. */
import { spawnSync } from 'node:child_process';

export interface Timing {
  ms: number;
  cpuMs: number;
  out?: unknown;
}

export async function timeNode(fn: () => Promise<unknown> | unknown): Promise<Timing> {
  const c0 = process.cpuUsage();
  const t = performance.now();
  const out = await fn();
  const ms = performance.now() - t;
  const c = process.cpuUsage(c0);
  return { ms, cpuMs: (c.user + c.system) / 1000, out };
}

/** A shell pipeline's wall time and its children's CPU time (bash `times`, last line); any stage failing fails it. */
export function timeShell(script: string): Timing {
  const t = performance.now();
  const res = spawnSync('bash', ['-c', `set -o pipefail; ${script}\ntimes`], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const ms = performance.now() - t;
  if (res.status !== 0) throw new Error(`pipeline failed: ${res.stderr}`);
  const lines = res.stdout.trim().split('\n');
  const children = (lines.at(-1) ?? '').split(/\s+/).map((v) => {
    const m = /^(\d+)m([\d.]+)s$/.exec(v);
    return m ? Number(m[1]) * 60_000 + Number(m[2]) * 1000 : 0;
  });
  return { ms, cpuMs: children[0] + children[1], out: lines[0] };
}

/**
 * `dsr receipt` as support and an auditor run it: a readable summary by default (deferrals one
 * row per store and basis), `--json` for the stored document, `--html FILE` for a page to file
 * (escaped, with the hash), `receipt verify --data DIR` from a clean shell, and an unknown id.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { SubjectsReport } from '../../examples/voip-operator/generator';
import { startSeededEngine, type SeededEngine, type TestEngine } from '../support/engine';
import { NOW, personalValuesIn, plainSubject } from './support';

const run = promisify(execFile);
const BIN = path.resolve(__dirname, '../../bin/dsr.js');
let env: SeededEngine;
let t: TestEngine;
let report: SubjectsReport;
const taken: string[] = [];

/** The real bin in a shell that has none of the engine's variables. */
async function cleanShell(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('DSR_') && !k.startsWith('AWS_')));
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { env: clean, timeout: 120_000 });
    return { code: 0, out: stdout, err: stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : -1, out: err.stdout ?? '', err: err.stderr ?? '' };
  }
}

beforeAll(async () => {
  env = await startSeededEngine({ seed: 37, now: NOW });
  ({ t, report } = env);
}, 300_000);

afterAll(async () => {
  await env?.close();
});

describe('dsr receipt', () => {
  let subjectIds: string[];

  it('prints a summary a person reads: per store, deferrals grouped by store and basis, no personal value', async () => {
    const subject = plainSubject(report, taken, (s) => s.expected.invoices.owner > 3 && s.expected['call-records'].owner > 3);
    subjectIds = Object.values(subject.identifiers).flat();
    const verification = ['--verified-by', 'agent-7', '--verification-method', 'id-document', '--verification-ref', 'T<b>&"1', '--verified-at', NOW];
    const r = await t.dsr('start', '--type', 'erasure', '--subject', subject.subjectId, '--request-id', 'rc-1', ...verification, '--wait', '--json');
    expect(r.code).toBe(0);

    const raw = JSON.parse((await t.dsr('receipt', 'rc-1', '--json')).out) as { sha256: string; receipt: { deferrals: Array<{ store: string; basis: string; due: string; count: number }> } };
    const deferrals = raw.receipt.deferrals;
    expect(deferrals.length).toBeGreaterThan(2);
    const groups = new Set(deferrals.map((d) => `${d.store}|${d.basis}`));

    const shown = await t.dsr('receipt', 'rc-1');
    expect(shown.code).toBe(0);
    expect(shown.out).toContain(raw.sha256);
    expect(shown.out).toMatch(/verification\s+id-document, reference T<b>&"1/);
    const section = shown.out.split('Deferred (erased when due)\n')[1].split(/\n(?=\S)/)[0].trim().split('\n');
    expect(section).toHaveLength(groups.size + 1);
    for (const d of groups) {
      const [store, basis] = d.split('|');
      const total = deferrals.filter((x) => x.store === store && x.basis === basis).reduce((n, x) => n + x.count, 0);
      expect(section.some((line) => new RegExp(`^${store}\\s+${basis}\\s+${total}\\s`).test(line.trim()))).toBe(true);
    }
    expect(shown.out.split('\n').length).toBeLessThan(60);
    expect(personalValuesIn(shown.out, report).filter((v) => subjectIds.includes(v))).toEqual([]);
  }, 300_000);

  it('--html writes a page with the hash, every value escaped, no personal value', async () => {
    const file = path.join(t.dataDir, 'rc-1.html');
    const r = await t.dsr('receipt', 'rc-1', '--html', file);
    expect(r.code).toBe(0);
    const html = fs.readFileSync(file, 'utf8');
    const hash = JSON.parse((await t.dsr('receipt', 'rc-1', '--json')).out).sha256 as string;
    expect(r.out).toContain(hash);
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain(hash);
    expect(html).toContain('T&lt;b&gt;&amp;&quot;1');
    expect(html).not.toContain('T<b>');
    expect(personalValuesIn(html, report).filter((v) => subjectIds.includes(v))).toEqual([]);
  });

  it('an unknown request is named as such', async () => {
    const r = await t.dsr('receipt', 'rc-nope');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/no such request rc-nope/);
  });

  it('receipt verify --data DIR works from a clean shell, with --data after or before verify', async () => {
    const after = await cleanShell(['receipt', 'verify', '--data', t.dataDir]);
    expect(after.err).toBe('');
    expect(after.code).toBe(0);
    expect(after.out).toMatch(/receipt chain intact: \d+ receipts/);
    const before = await cleanShell(['receipt', '--data', t.dataDir, 'verify']);
    expect(before.code).toBe(0);
    const summary = await cleanShell(['receipt', 'rc-1', '--data', t.dataDir]);
    expect(summary.code).toBe(0);
    expect(summary.out).toMatch(/^Receipt\n/);
  }, 120_000);
});

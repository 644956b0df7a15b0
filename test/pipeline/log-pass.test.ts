/**
 * The batched log-erasure pass end to end on the local engine: the same erasures, once with the
 * log stores erased by each request (inline) and once queued and erased by one `log-erasure`
 * pass (a Distributed Map over work units), must leave the very same log records, line for
 * line; the queued requests complete with their log stores listed as queued, each gets a
 * chained change receipt when the pass has erased them, and nothing personal reaches the
 * pass's execution histories (parent and children).
 */
import { DescribeExecutionCommand, DescribeMapRunCommand, ListExecutionsCommand, ListMapRunsCommand, SFNClient, StartExecutionCommand, StopExecutionCommand, type HistoryEvent } from '@aws-sdk/client-sfn';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { SubjectEntry, SubjectsReport } from '../../examples/voip-operator/generator';
import { changeReceipts } from '../../functions/core/receipt';
import { DEFAULT_DATA_MAP } from '../../local/engine';
import { startSeededEngine, type SeededEngine } from '../support/engine';
import { historyWithChildren } from '../support/history';

const NOW = '2026-11-02T12:00:00.000Z';
const verification = ['--verified-by', 'agent-7', '--verification-method', 'id-document', '--verification-ref', 'TICKET-9', '--verified-at', NOW];
const lastJson = (out: string) => JSON.parse(out.trim().split('\n').pop() ?? '{}');
const LOG_STORES = ['sip-logs', 'app-logs'];

function dataMapWith(logPass: 'inline' | 'queued'): string {
  const map = JSON.parse(fs.readFileSync(DEFAULT_DATA_MAP, 'utf8')) as { stores: Array<{ name: string; logPass?: string }> };
  for (const s of map.stores) if (LOG_STORES.includes(s.name)) s.logPass = logPass;
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'dsr-logpass-map-')), 'datamap.json');
  fs.writeFileSync(file, JSON.stringify(map));
  return file;
}

/** Every log object's lines (decompressed), by key: what the two runs are compared on. */
async function logLines(s3: S3Client): Promise<Map<string, string[]>> {
  const objects = new Map<string, string[]>();
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: 'voip-logs', ContinuationToken: token }));
    for (const o of page.Contents ?? []) {
      const body = Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: 'voip-logs', Key: o.Key! }))).Body!.transformToByteArray());
      objects.set(o.Key!, (body[0] === 0x1f && body[1] === 0x8b ? gunzipSync(body) : body).toString('utf8').split('\n'));
    }
    token = page.NextContinuationToken;
  } while (token);
  return objects;
}

const eligible = (s: SubjectEntry) => !s.flags.fraudInvestigation && !s.flags.legalHeldMedia && !s.flags.specialCharacters && s.identifiers.sipUsername.length > 0 && s.expected['sip-logs'].records > 0;

/** Three subjects with log records: the same in both runs (the dataset is deterministic). */
function subjectsOf(report: SubjectsReport): SubjectEntry[] {
  return report.subjects.filter(eligible).slice(0, 3);
}

async function eraseAll(env: SeededEngine, subjects: readonly SubjectEntry[]) {
  // Side by side: the requests share log objects.
  return Promise.all(
    subjects.map(async (s, i) => {
      const r = await env.t.dsr('start', '--type', 'erasure', '--subject', s.subjectId, '--request-id', `req-logpass-${i + 1}`, ...verification, '--wait', '--json');
      return { ...r, summary: lastJson(r.out) };
    }),
  );
}

/** Every history event of the log-erasure machine's executions and of their Map Runs' children. */
async function passHistories(env: SeededEngine): Promise<HistoryEvent[]> {
  const sfn = new SFNClient({});
  const arn = env.t.engine.env.DSR_LOG_ERASURE_STATE_MACHINE_ARN;
  const events: HistoryEvent[] = [];
  for (const e of (await sfn.send(new ListExecutionsCommand({ stateMachineArn: arn }))).executions ?? []) events.push(...(await historyWithChildren(sfn, e.executionArn!)));
  sfn.destroy();
  return events;
}

/** The unit result files (checkpoints) of every pass, in the work bucket. */
async function resultKeys(s3: S3Client): Promise<string[]> {
  const out = await s3.send(new ListObjectsV2Command({ Bucket: 'dsr-work', Prefix: 'log-passes/' }));
  return (out.Contents ?? []).map((o) => o.Key!).filter((k) => /\/results\//.test(k));
}

/** The outputs of the child executions of an execution's Map Runs. */
async function childOutputs(sfn: SFNClient, executionArn: string): Promise<string[]> {
  const outputs: string[] = [];
  for (const run of (await sfn.send(new ListMapRunsCommand({ executionArn }))).mapRuns ?? []) {
    for (const child of (await sfn.send(new ListExecutionsCommand({ mapRunArn: run.mapRunArn }))).executions ?? []) {
      outputs.push((await sfn.send(new DescribeExecutionCommand({ executionArn: child.executionArn! }))).output ?? '');
    }
  }
  return outputs;
}

let inlineLines: Map<string, string[]>;
let inlineSubjects: string[];

describe('the batched log-erasure pass', () => {
  it('inline: each request erases its log records itself (the reference)', async () => {
    const env = await startSeededEngine({ seed: 41, now: NOW, dataMapFile: dataMapWith('inline') });
    try {
      const subjects = subjectsOf(env.report);
      expect(subjects).toHaveLength(3);
      inlineSubjects = subjects.map((s) => s.subjectId);
      const runs = await eraseAll(env, subjects);
      for (const r of runs) expect(r.summary).toMatchObject({ status: 'completed' });
      inlineLines = await logLines(env.s3);
    } finally {
      await env.close();
    }
  }, 600_000);

  it('queued: the requests complete with their log stores queued; one pass erases them all, line for line as inline', async () => {
    // Rounds of 256 KiB: each 1 MiB unit is read, decided and rewritten in several rounds.
    const env = await startSeededEngine({ seed: 41, now: NOW, dataMapFile: dataMapWith('queued'), logPass: { unitBytes: 1024 * 1024, roundBytes: 256 * 1024 } });
    try {
      const subjects = subjectsOf(env.report);
      expect(subjects.map((s) => s.subjectId)).toEqual(inlineSubjects);
      const before = await logLines(env.s3);
      const runs = await eraseAll(env, subjects);
      for (const r of runs) {
        expect(r.summary).toMatchObject({ status: 'completed' });
        expect(r.summary.logErasure.map((q: { store: string; status: string }) => [q.store, q.status]).sort()).toEqual([['app-logs', 'pending'], ['sip-logs', 'pending']]);
      }
      // Nothing of the logs changed yet: the pass has not run.
      expect(await logLines(env.s3)).toEqual(before);

      const queue = await env.t.dsr('logs', 'queue', '--json');
      expect(queue.code).toBe(0);
      expect(JSON.parse(queue.out)).toHaveLength(6);
      for (const s of subjects) expect(queue.out).not.toContain(s.subjectId);

      const pass = await env.t.dsr('logs', 'erase-pending', '--json');
      expect(pass.code).toBe(0);
      const result = lastJson(pass.out);
      // The queue as the LogErasuresOverdue alarm counts it: six open, none past its deadline.
      expect(result).toMatchObject({ status: 'SUCCEEDED', pass: { status: 'started', requests: 3, subjects: 6, queue: { queued: 6, overdue: 0 } }, summary: { requests: 3, erased: 6, postponed: 0 } });
      expect(result.pass.units).toBeGreaterThan(1);
      expect(result.summary.objectsRewritten).toBeGreaterThan(0);
      expect(result.summary.objectsVerified).toBe(result.summary.objectsRewritten);

      // The very same records are left as by the inline path.
      const after = await logLines(env.s3);
      expect([...after.keys()].sort()).toEqual([...inlineLines.keys()].sort());
      for (const [key, lines] of inlineLines) expect({ key, lines: after.get(key) }).toEqual({ key, lines });

      // One chained change receipt per request, per pass; the queue says done.
      const doc = { dynamodb: env.ddb, ledger: { table: env.t.engine.env.DSR_LEDGER_TABLE } } as Parameters<typeof changeReceipts>[0];
      for (let i = 1; i <= 3; i++) {
        const changes = (await changeReceipts(doc, `req-logpass-${i}`)).map((r) => JSON.parse(r.body) as Record<string, unknown>);
        const logErasure = changes.filter((c) => c.change === 'log-erasure');
        expect(logErasure).toHaveLength(1);
        expect(Object.keys(logErasure[0].stores as object).sort()).toEqual(LOG_STORES.slice().sort());
        const status = lastJson((await env.t.dsr('status', `req-logpass-${i}`, '--json')).out);
        expect(status.logErasure.map((q: { status: string }) => q.status)).toEqual(['done', 'done']);
      }

      // No personal value in any history of the pass, parent or child.
      const histories = JSON.stringify(await passHistories(env));
      for (const s of subjects) {
        for (const values of Object.values(s.identifiers)) for (const v of values) expect(histories).not.toContain(v);
      }

      // Nothing left: the next run has nothing to do.
      const again = lastJson((await env.t.dsr('logs', 'erase-pending', '--json')).out);
      expect(again).toMatchObject({ status: 'SUCCEEDED', pass: { status: 'empty', units: 0, queue: { queued: 0, overdue: 0 } } });
    } finally {
      await env.close();
    }
  }, 900_000);
  it('a pass stopped half-way is resumed by the next run: finished units are not done again, and the lines end as inline', async () => {
    const env = await startSeededEngine({ seed: 41, now: NOW, dataMapFile: dataMapWith('queued'), logPass: { unitBytes: 1024 * 1024, maxConcurrency: 1 } });
    const sfn = new SFNClient({});
    try {
      const subjects = subjectsOf(env.report);
      expect(subjects.map((s) => s.subjectId)).toEqual(inlineSubjects);
      for (const r of await eraseAll(env, subjects)) expect(r.summary).toMatchObject({ status: 'completed' });

      // The pass, one unit at a time, stopped once at least one unit has finished.
      const arn = env.t.engine.env.DSR_LOG_ERASURE_STATE_MACHINE_ARN;
      const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: arn, name: 'logpass-stopped', input: JSON.stringify({ force: true }) }));
      let mapRunArn: string | undefined;
      for (let waited = 0; waited < 600_000; waited += 250) {
        mapRunArn ??= (await sfn.send(new ListMapRunsCommand({ executionArn }))).mapRuns?.[0]?.mapRunArn;
        if (mapRunArn && ((await sfn.send(new DescribeMapRunCommand({ mapRunArn }))).executionCounts?.succeeded ?? 0) >= 1) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      expect(mapRunArn).toBeDefined();
      await sfn.send(new StopExecutionCommand({ executionArn, cause: 'test: stopped half-way' }));
      const described = await sfn.send(new DescribeMapRunCommand({ mapRunArn }));
      const total = described.itemCounts?.total ?? 0;
      expect(total).toBeGreaterThan(1);
      // A handler cannot be cancelled (nor can a Lambda invocation): let the unit in flight finish.
      let finished = await resultKeys(env.s3);
      for (let stable = 0; stable < 4; ) {
        await new Promise((r) => setTimeout(r, 1500));
        const now = await resultKeys(env.s3);
        stable = now.length === finished.length ? stable + 1 : 0;
        finished = now;
      }
      expect(finished.length).toBeGreaterThanOrEqual(1);
      expect(finished.length).toBeLessThan(total);

      const resumed = await env.t.dsr('logs', 'erase-pending', '--json');
      expect(resumed.code).toBe(0);
      const result = lastJson(resumed.out);
      expect(result).toMatchObject({ status: 'SUCCEEDED', pass: { status: 'resumed', requests: 3, subjects: 6 }, summary: { requests: 3, erased: 6, postponed: 0 } });
      // Every unit finished before the stop was returned from its checkpoint, not done again.
      const resumedArn = `${arn.replace(':stateMachine:', ':execution:')}:${result.execution}`;
      const outputs = await childOutputs(sfn, resumedArn);
      expect(outputs).toHaveLength(total);
      expect(outputs.filter((o) => o.includes('"alreadyDone":1')).length).toBeGreaterThanOrEqual(finished.length);

      // No record lost, none duplicated, none left: the very lines of the inline path.
      const after = await logLines(env.s3);
      expect([...after.keys()].sort()).toEqual([...inlineLines.keys()].sort());
      for (const [key, lines] of inlineLines) expect({ key, lines: after.get(key) }).toEqual({ key, lines });
      // One receipt of the pass per request, though it ran twice.
      const doc = { dynamodb: env.ddb, ledger: { table: env.t.engine.env.DSR_LEDGER_TABLE } } as Parameters<typeof changeReceipts>[0];
      for (let i = 1; i <= 3; i++) {
        const changes = (await changeReceipts(doc, `req-logpass-${i}`)).map((r) => JSON.parse(r.body) as Record<string, unknown>);
        expect(changes.filter((c) => c.change === 'log-erasure')).toHaveLength(1);
      }
    } finally {
      sfn.destroy();
      await env.close();
    }
  }, 900_000);

  it('a subject placed under a hold after its erasure queued the logs keeps its log records; the others are erased', async () => {
    const env = await startSeededEngine({ seed: 41, now: NOW, dataMapFile: dataMapWith('queued'), logPass: { unitBytes: 1024 * 1024 } });
    try {
      const subjects = subjectsOf(env.report);
      const before = await logLines(env.s3);
      for (const r of await eraseAll(env, subjects)) expect(r.summary).toMatchObject({ status: 'completed' });
      const held = subjects[0];
      const hold = await env.t.dsr('hold', 'place', '--subject', held.subjectId, '--kind', 'litigation', '--reference', 'CASE-41', '--placed-by', 'legal-3', '--json');
      expect(hold.err).toBe('');
      expect(hold.code).toBe(0);

      const pass = lastJson((await env.t.dsr('logs', 'erase-pending', '--json')).out);
      expect(pass).toMatchObject({ status: 'SUCCEEDED', pass: { status: 'started', requests: 3 } });
      const after = await logLines(env.s3);
      const sipLinesOf = (lines: Map<string, string[]>, s: SubjectEntry) =>
        [...lines.values()].flat().filter((l) => s.identifiers.sipUsername.some((u) => l.includes(`"sipUser":${JSON.stringify(u)}`))).length;
      // The held subject's own SIP records are all still there; the others' are gone.
      expect(sipLinesOf(before, held)).toBeGreaterThan(0);
      expect(sipLinesOf(after, held)).toBe(sipLinesOf(before, held));
      for (const s of subjects.slice(1)) {
        expect(sipLinesOf(before, s)).toBeGreaterThan(0);
        expect(sipLinesOf(after, s)).toBe(0);
      }
      // Held is an outcome, recorded with its basis in the request's receipt of the pass.
      const doc = { dynamodb: env.ddb, ledger: { table: env.t.engine.env.DSR_LEDGER_TABLE } } as Parameters<typeof changeReceipts>[0];
      const receipt = (await changeReceipts(doc, 'req-logpass-1')).map((r) => r.body).find((b) => b.includes('"change":"log-erasure"'));
      expect(receipt).toBeDefined();
      expect(receipt).toContain('litigation');
      expect(receipt).not.toContain(held.subjectId);
    } finally {
      await env.close();
    }
  }, 900_000);
});

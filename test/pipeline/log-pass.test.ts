/**
 * The batched log-erasure pass end to end on the local engine: the same erasures, once with the
 * log stores erased by each request (inline) and once queued and erased by one `log-erasure`
 * pass (a Distributed Map over work units), must leave the very same log records, line for
 * line; the queued requests complete with their log stores listed as queued, each gets a
 * chained change receipt when the pass has erased them, and nothing personal reaches the
 * pass's execution histories (parent and children).
 */
import { ListExecutionsCommand, SFNClient, type HistoryEvent } from '@aws-sdk/client-sfn';
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
    const env = await startSeededEngine({ seed: 41, now: NOW, dataMapFile: dataMapWith('queued'), logPass: { unitBytes: 1024 * 1024 } });
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
});

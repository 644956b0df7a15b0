/**
 * Access, portability and restriction over big log stores, fanned out, end to end on the local
 * engine: the same requests, once with the log stores discovered by one DiscoverStore each
 * (inline) and once fanned out (`logPass: queued`, and `auto` past a small `aboveBytes`, into
 * 1 MiB work units run by the request's Distributed Map), must leave the very same findings,
 * exports and bundle entries (a restriction: findings and what RestrictStore applied); no state passes 256 KB, nothing personal reaches a history (parent or child), and a
 * unit that fails is scanned again by the retried Map while the finished units are not.
 */
import { ListExecutionsCommand, ListMapRunsCommand, SFNClient, type HistoryEvent } from '@aws-sdk/client-sfn';
import { GetObjectCommand, ListObjectVersionsCommand, type S3Client } from '@aws-sdk/client-s3';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { SubjectEntry, SubjectsReport } from '../../examples/voip-operator/generator';
import { s3RecordsConnector } from '../../functions/connectors/s3-records';
import { DEFAULT_DATA_MAP } from '../../local/engine';
import { readZip } from '../core/bundle-support';
import { startSeededEngine, type SeededEngine } from '../support/engine';
import { fullHistory } from '../support/history';

/**
 * A unit's Lambda dying once (a crash, a timeout) cannot be produced on demand by a real part:
 * this hook, off unless a test sets it, throws before the real handler runs.
 */
const unitHook: { fail?: (unit: string) => boolean } = {};
jest.mock('../../functions/handlers/scan-log-unit', () => {
  const actual = jest.requireActual('../../functions/handlers/scan-log-unit');
  return {
    ...actual,
    handler: async (event: { Items?: Array<{ unit: string }> }, context: unknown) => {
      const unit = event.Items?.[0]?.unit ?? '';
      if (unitHook.fail?.(unit)) throw Object.assign(new Error('the unit\'s Lambda died'), { name: 'InjectedUnitCrash' });
      return actual.handler(event, context);
    },
  };
});

const NOW = '2026-11-02T12:00:00.000Z';
const verification = ['--verified-by', 'agent-7', '--verification-method', 'id-document', '--verification-ref', 'TICKET-9', '--verified-at', NOW];
const lastJson = (out: string) => JSON.parse(out.trim().split('\n').pop() ?? '{}');
const LOG_STORES = ['sip-logs', 'app-logs'];
const MiB = 1024 * 1024;

function dataMapWith(logPass: Record<string, 'inline' | 'queued' | 'auto'>): string {
  const map = JSON.parse(fs.readFileSync(DEFAULT_DATA_MAP, 'utf8')) as { stores: Array<{ name: string; logPass?: string }> };
  for (const s of map.stores) if (logPass[s.name]) s.logPass = logPass[s.name];
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'dsr-fanout-map-')), 'datamap.json');
  fs.writeFileSync(file, JSON.stringify(map));
  return file;
}

/** A subject with records in both log stores: the same in both runs (the dataset is deterministic). */
function subjectOf(report: SubjectsReport): SubjectEntry {
  const s = report.subjects.find((x) => !x.flags.fraudInvestigation && !x.flags.legalHeldMedia && !x.flags.specialCharacters && x.expected['sip-logs'].records > 0 && (x.expected['app-logs']?.records ?? 0) > 0);
  if (!s) throw new Error('the reference dataset has no subject with records in both log stores');
  return s;
}

async function workText(env: SeededEngine, key: string): Promise<string> {
  const out = await env.s3.send(new GetObjectCommand({ Bucket: env.t.engine.env.DSR_WORK_BUCKET, Key: key }));
  return out.Body!.transformToString('utf8');
}

/**
 * What the two runs are compared on: the log stores' findings and export documents and their
 * plan slices, and every entry of the bundle (or the access report). The plan hash covers every
 * store, and the other stores' seeded S3 version ids differ from one engine to the next, so it
 * is written as PLAN; the bag's manifests, which hash the entries compared here, are left out.
 */
async function outcome(env: SeededEngine, requestId: string, planHash: string, dir: string) {
  const findings: Record<string, string> = {};
  const exported: Record<string, string> = {};
  const plan = JSON.parse(await workText(env, `requests/${requestId}/plans/${planHash}.json`)) as { stores: Array<{ store: string }> };
  const restriction = requestId.endsWith('-restriction');
  for (const store of LOG_STORES) {
    findings[store] = await workText(env, `requests/${requestId}/findings/${store}.json`);
    // A restriction exports nothing: what RestrictStore applied (counted, per decision) is its outcome.
    exported[store] = await workText(env, `requests/${requestId}/${restriction ? 'applied' : 'export'}/${store}.json`);
    findings[`${store} (plan)`] = JSON.stringify(plan.stores.find((s) => s.store === store));
  }
  if (restriction) return { findings, exported, entries: {} };
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${requestId}.bundle`);
  const r = await env.t.dsr('bundle', requestId, '--out', file);
  expect(r.err).toBe('');
  const normalized = (data: Buffer) => data.toString('latin1').split(planHash).join('PLAN');
  // A portability bundle is a zip (compared entry by entry); an access report is one document.
  const zip = fs.readFileSync(file).subarray(0, 4).equals(Buffer.from([0x50, 0x4b, 0x03, 0x04]));
  const entries = zip
    ? Object.fromEntries((await readZip(file)).filter((e) => !/manifest-sha256\.txt$/.test(e.name)).map((e) => [e.name, normalized(e.data)]))
    : { report: normalized(fs.readFileSync(file)) };
  return { findings, exported, entries };
}

/** Per store (or bundle entry): equal bytes; on a difference, the first finding or line that differs, not megabytes of JSON. */
function expectSame(got: Record<string, string>, want: Record<string, string>): void {
  expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
  for (const [name, text] of Object.entries(want)) {
    if (got[name] === text) continue;
    const a = text.split(/(?<=\},)/);
    const b = (got[name] ?? '').split(/(?<=\},)/);
    const i = a.findIndex((part, j) => part !== b[j]);
    expect({ name, at: i, parts: b.length, part: b[i]?.slice(0, 400) }).toEqual({ name, at: i, parts: a.length, part: a[i]?.slice(0, 400) });
  }
}

async function request(env: SeededEngine, type: string, requestId: string, subject: string) {
  const r = await env.t.dsr('start', '--type', type, '--subject', subject, '--request-id', requestId, ...verification, '--wait', '--json');
  return { ...r, summary: lastJson(r.out) };
}

/** Every history event of the request's execution and of its Map Runs' children, per execution. */
async function histories(env: SeededEngine, requestId: string): Promise<{ parent: HistoryEvent[]; children: Map<string, HistoryEvent[]>; mapRuns: number }> {
  const sfn = new SFNClient({});
  try {
    const parentArn = `${env.t.engine.env.DSR_STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:${requestId}`;
    const children = new Map<string, HistoryEvent[]>();
    const runs = (await sfn.send(new ListMapRunsCommand({ executionArn: parentArn }))).mapRuns ?? [];
    for (const run of runs) {
      let nextToken: string | undefined;
      do {
        const page = await sfn.send(new ListExecutionsCommand({ mapRunArn: run.mapRunArn, nextToken }));
        for (const child of page.executions ?? []) children.set(child.executionArn!, await fullHistory(sfn, child.executionArn!));
        nextToken = page.nextToken;
      } while (nextToken);
    }
    return { parent: await fullHistory(sfn, parentArn), children, mapRuns: runs.length };
  } finally {
    sfn.destroy();
  }
}

/** The largest state input or output of the events (UTF-8 bytes). */
function largestState(events: readonly HistoryEvent[]): number {
  let max = 0;
  for (const e of events) {
    for (const d of [e.stateEnteredEventDetails?.input, e.stateExitedEventDetails?.output, e.taskSucceededEventDetails?.output, e.executionStartedEventDetails?.input]) {
      if (d) max = Math.max(max, Buffer.byteLength(d, 'utf8'));
    }
  }
  return max;
}

/** The units' counts as their child executions returned them (the ScanLogUnit Task's output). */
function unitOutputs(children: Map<string, HistoryEvent[]>): Array<{ counts: Record<string, number> }> {
  return [...children.values()].flatMap((events) =>
    events.filter((e) => e.stateExitedEventDetails?.name === 'ScanLogUnit').map((e) => JSON.parse(e.stateExitedEventDetails!.output!) as { counts: Record<string, number> }),
  );
}

async function versionsOf(s3: S3Client, bucket: string, prefix: string): Promise<Map<string, number>> {
  const out = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: prefix }));
  const counts = new Map<string, number>();
  for (const v of out.Versions ?? []) counts.set(v.Key!, (counts.get(v.Key!) ?? 0) + 1);
  return counts;
}

const inline: Record<string, Awaited<ReturnType<typeof outcome>>> = {};
let subjectId: string;
const out = fs.mkdtempSync(path.join(os.tmpdir(), 'dsr-fanout-'));

describe('access, portability and restriction over fanned-out log stores', () => {
  afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

  it('inline: one DiscoverStore per log store (the reference)', async () => {
    const env = await startSeededEngine({ seed: 41, now: NOW, dataMapFile: dataMapWith({ 'sip-logs': 'inline', 'app-logs': 'inline' }) });
    try {
      subjectId = subjectOf(env.report).subjectId;
      for (const type of ['access', 'portability', 'restriction']) {
        const r = await request(env, type, `req-fanout-${type}`, subjectId);
        expect(r.summary).toMatchObject({ status: 'completed' });
        inline[type] = await outcome(env, `req-fanout-${type}`, r.summary.planHash, path.join(out));
      }
      // The stores hold the subject's records: the comparison below is not of two empty sets.
      for (const store of LOG_STORES) expect(JSON.parse(inline.access.findings[store]).length).toBeGreaterThan(0);
      const { parent } = await histories(env, 'req-fanout-access');
      expect(parent.some((e) => e.stateEnteredEventDetails?.name === 'ScanLogUnits')).toBe(false);
    } finally {
      await env.close();
    }
  }, 600_000);

  it('fanned out: the same findings, exports, bundle and restriction counts; counts and references only in every history, parent and child', async () => {
    const env = await startSeededEngine({
      seed: 41,
      now: NOW,
      dataMapFile: dataMapWith({ 'sip-logs': 'queued', 'app-logs': 'auto' }),
      logPass: { aboveBytes: 1, unitBytes: MiB },
    });
    try {
      const subject = subjectOf(env.report);
      expect(subject.subjectId).toBe(subjectId);
      // Who exports the log stores' records: each call's findings, per store (the Distributed Map's children, one unit each, or one whole-store ExportStore).
      const exportCalls = jest.spyOn(s3RecordsConnector, 'export');
      for (const type of ['access', 'portability', 'restriction']) {
        const requestId = `req-fanout-${type}`;
        exportCalls.mockClear();
        const r = await request(env, type, requestId, subjectId);
        expect(r.summary).toMatchObject({ status: 'completed' });
        const fanned = await outcome(env, requestId, r.summary.planHash, path.join(out, 'fanned'));
        expectSame(fanned.findings, inline[type].findings);
        expectSame(fanned.exported, inline[type].exported);
        expectSame(fanned.entries, inline[type].entries);

        const { parent, children, mapRuns } = await histories(env, requestId);
        expect(mapRuns).toBe(1);
        const begun = parent.find((e) => e.stateExitedEventDetails?.name === 'BeginLogScan')!;
        const scan = JSON.parse(begun.stateExitedEventDetails!.output!).logScan as { stores: number; units: number };
        expect(scan.stores).toBe(2);
        expect(scan.units).toBeGreaterThan(2);
        expect(children.size).toBe(scan.units);
        const history = await env.t.dsr('history', requestId);
        expect(history.out).toMatch(new RegExp(`BeginLogScan\\s+${scan.units} work units of 2 big log store\\(s\\)`));
        const units = unitOutputs(children);
        expect(units.reduce((n, u) => n + u.counts.findings, 0)).toBe(LOG_STORES.reduce((n, s) => n + JSON.parse(fanned.findings[s]).length, 0));
        // Access and portability: the units exported the records (ExportStore only joined their parts); a restriction exports nothing.
        const exportedByUnits = units.reduce((n, u) => n + (u.counts.exportedRecords ?? 0), 0);
        if (type === 'restriction') expect(units.every((u) => u.counts.exportedRecords === undefined)).toBe(true);
        else expect(exportedByUnits).toBe(LOG_STORES.reduce((n, s) => n + (JSON.parse(fanned.exported[s]) as { records: unknown[] }).records.length, 0));
        if (type !== 'restriction') expect(exportedByUnits).toBeGreaterThan(0);
        // One export call per work unit of the store, each with its unit's findings, and none more:
        // a whole-store export by ExportStore would add a call and count every finding twice.
        for (const store of LOG_STORES) {
          const total = JSON.parse(fanned.findings[store]).length;
          const storeUnits = (await workText(env, `requests/${requestId}/log-scan/${requestId}/stores/${store}.jsonl`)).trim().split('\n').length;
          const calls = exportCalls.mock.calls.filter(([s]) => s.name === store).map(([, , findings]) => findings.length);
          if (type === 'restriction') expect(calls).toEqual([]);
          else expect({ calls: calls.length, findings: calls.reduce((a, b) => a + b, 0) }).toEqual({ calls: storeUnits, findings: total });
        }
        // The parent's state and every child's are far from the 256 KB limit, at any object count.
        expect(largestState(parent)).toBeLessThan(256 * 1024);
        for (const events of children.values()) expect(largestState(events)).toBeLessThan(16 * 1024);
        const text = JSON.stringify([parent, ...children.values()]);
        for (const values of Object.values(subject.identifiers)) for (const v of values) expect(text).not.toContain(v);
        expect(text).not.toContain(subjectId);
      }
      exportCalls.mockRestore();
    } finally {
      await env.close();
    }
  }, 900_000);

  it('a unit that fails is scanned again by the retried Map; the units already done are not', async () => {
    // One unit at a time, in manifest order (sip-logs, then app-logs): the first app-logs unit dies once.
    const env = await startSeededEngine({ seed: 41, now: NOW, dataMapFile: dataMapWith({ 'sip-logs': 'queued', 'app-logs': 'queued' }), logPass: { unitBytes: MiB, maxConcurrency: 1 } });
    const failed: string[] = [];
    unitHook.fail = (unit) => {
      if (unit !== 'app-logs.000001' || failed.length > 0) return false;
      failed.push(unit);
      return true;
    };
    try {
      const requestId = 'req-fanout-access';
      const r = await request(env, 'access', requestId, subjectId);
      expect(r.summary).toMatchObject({ status: 'completed' });
      expect(failed).toEqual(['app-logs.000001']);
      const fanned = await outcome(env, requestId, r.summary.planHash, path.join(out, 'retried'));
      expectSame(fanned.findings, inline.access.findings);
      expectSame(fanned.entries, inline.access.entries);

      const manifest = (await workText(env, `requests/${requestId}/log-scan/${requestId}/manifest.jsonl`)).trim().split('\n').map((l) => JSON.parse(l) as { unit: string });
      const before = manifest.findIndex((l) => l.unit === 'app-logs.000001');
      expect(before).toBeGreaterThan(1);
      const { children, mapRuns } = await histories(env, requestId);
      expect(mapRuns).toBe(2);
      const outputs = unitOutputs(children);
      // Every unit scanned exactly once; the retried Map Run found the units before the failed one done.
      expect(outputs.filter((u) => !u.counts.alreadyDone)).toHaveLength(manifest.length);
      expect(outputs.filter((u) => u.counts.alreadyDone)).toHaveLength(before);
      const versions = await versionsOf(env.s3, env.t.engine.env.DSR_WORK_BUCKET, `requests/${requestId}/log-scan/${requestId}/findings/`);
      expect([...versions.keys()].sort()).toEqual(manifest.map((l) => `requests/${requestId}/log-scan/${requestId}/findings/${l.unit}.json`).sort());
      for (const [key, n] of versions) expect({ key, n }).toEqual({ key, n: 1 });
    } finally {
      unitHook.fail = undefined;
      await env.close();
    }
  }, 900_000);

  it('a unit that keeps failing fails its store, as a failed DiscoverStore does: the other stores go on and the receipt records it', async () => {
    const env = await startSeededEngine({ seed: 41, now: NOW, dataMapFile: dataMapWith({ 'sip-logs': 'queued', 'app-logs': 'queued' }), logPass: { unitBytes: MiB } });
    unitHook.fail = (unit) => unit === 'sip-logs.000001';
    try {
      const requestId = 'req-fanout-failing';
      const r = await request(env, 'access', requestId, subjectId);
      expect(r.summary).toMatchObject({ status: 'failed', execution: { status: 'FAILED', error: 'RequestFailed' } });
      const { parent, mapRuns } = await histories(env, requestId);
      expect(mapRuns).toBe(2);
      const collected = parent.find((e) => e.stateExitedEventDetails?.name === 'CollectedDiscovery')!;
      const discovery = JSON.parse(collected.stateExitedEventDetails!.output!).discovery as Array<{ store: string; status: string; error?: string }>;
      expect(discovery.find((d) => d.store === 'sip-logs')).toMatchObject({ status: 'failed', error: 'LogScanUnitFailed' });
      expect(discovery.filter((d) => d.store !== 'sip-logs').map((d) => d.status)).toEqual(discovery.filter((d) => d.store !== 'sip-logs').map(() => 'ok'));
      expect(parent.some((e) => e.stateEnteredEventDetails?.name === 'WriteReceipt')).toBe(true);
    } finally {
      unitHook.fail = undefined;
      await env.close();
    }
  }, 900_000);
});

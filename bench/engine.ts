/**
 * Benchmarks that need the whole local engine with the `medium` reference dataset seeded:
 * DynamoDB requests per subject per store (discovery), end-to-end request latency, and the AWS
 * cost model from the executions' histories.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient, type HistoryEvent } from '@aws-sdk/client-sfn';
import { dynamodbConnector } from '../functions/connectors/dynamodb';
import { createAnonymizer } from '../functions/core/anonymize';
import { parseDataMap, type DynamoDbStore } from '../functions/core/datamap';
import { HANDLERS } from '../functions/handlers/registry';
import type { SubjectEntry, SubjectsReport } from '../examples/voip-operator/generator';
import { seedReferenceDataset } from '../examples/voip-operator/seed';
import { startTestEngine } from '../test/support/engine';
import { fullHistory } from '../test/support/history';
import { PRICES } from './prices';
import type { Identity } from '../functions/connectors/types';


type RowFn = (r: { section: string; name: string; value: string; baseline?: string; ratio?: string; note?: string }) => void;

const TYPES = ['access', 'portability', 'restriction', 'erasure'] as const;

function identityOf(s: SubjectEntry): Identity {
  return { ...s.identifiers } as Identity;
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1);
  return sorted[Math.max(0, i)];
}

const memoryOf = new Map(HANDLERS.map((h) => [`dsr-${h.id}`, h.memoryMb]));

interface HistoryCost {
  transitions: number;
  lambdaInvocations: number;
  gbSeconds: number;
  handlerMs: number;
}

/** State transitions (every *StateEntered event) and Lambda GB-seconds from one history. */
export function costOfHistory(events: readonly HistoryEvent[]): HistoryCost {
  const byId = new Map(events.map((e) => [e.id, e]));
  let transitions = 0;
  let lambdaInvocations = 0;
  let gbSeconds = 0;
  let handlerMs = 0;
  for (const e of events) {
    if (e.type?.endsWith('StateEntered')) transitions++;
    if (e.type !== 'TaskSucceeded' && e.type !== 'TaskFailed' && e.type !== 'LambdaFunctionSucceeded' && e.type !== 'LambdaFunctionFailed') continue;
    const started = byId.get(e.previousEventId);
    if (!started || !(started.type === 'TaskStarted' || started.type === 'LambdaFunctionStarted')) continue;
    const scheduled = byId.get(started.previousEventId);
    const params = scheduled?.taskScheduledEventDetails?.parameters;
    let fn: string;
    try {
      fn = ((params ? (JSON.parse(params) as { FunctionName?: string }).FunctionName : undefined) ?? '').split(':').pop() ?? '';
    } catch {
      fn = '';
    }
    const ms = Math.max(1, (e.timestamp?.getTime() ?? 0) - (started.timestamp?.getTime() ?? 0));
    const memMb = memoryOf.get(fn) ?? 1024;
    lambdaInvocations++;
    handlerMs += ms;
    gbSeconds += (memMb / 1024) * (ms / 1000);
  }
  return { transitions, lambdaInvocations, gbSeconds, handlerMs };
}


export async function runEngineBenches(o: { root: string; n: number; seed: number; only: Set<string>; row: RowFn }): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const t = await startTestEngine();
  const ddb = new DynamoDBClient({});
  const s3 = new S3Client({ forcePathStyle: true });
  const sfn = new SFNClient({});
  try {
    const asOf = '2026-11-01T00:00:00Z';
    const now = '2026-11-02T12:00:00.000Z';
    t.setClock(now);
    const seedStart = performance.now();
    await seedReferenceDataset({ dataDir: t.dataDir, scale: 'medium', seed: o.seed, asOf, clients: { dynamodb: ddb, s3 } });
    const report = JSON.parse(fs.readFileSync(path.join(t.dataDir, 'reference/subjects.json'), 'utf8')) as SubjectsReport;
    console.log(`  (medium dataset seeded in ${((performance.now() - seedStart) / 1000).toFixed(0)} s: ${report.subjects.length} subjects)`);
    const map = parseDataMap(JSON.parse(fs.readFileSync(path.join(__dirname, '../examples/voip-operator/datamap.json'), 'utf8')));

    if (o.only.has('discovery')) {
      const counting = new DynamoDBClient({});
      const calls: Record<string, number> = {};
      counting.middlewareStack.add(
        (next, context) => async (args) => {
          const name = String(context.commandName ?? 'unknown').replace(/Command$/, '');
          calls[name] = (calls[name] ?? 0) + 1;
          return next(args);
        },
        { step: 'initialize', name: 'benchCountRequests' },
      );
      const ctx = { dynamodb: counting, s3, now: new Date(now), anonymizer: createAnonymizer('bench-hmac-key-0123456789abcdef'), log: () => undefined };
      const subjects = report.subjects.slice(0, Math.max(5, o.n));
      const perStore: Record<string, { requests: number; byOperation: Record<string, number>; findings: number }> = {};
      let scans = 0;
      for (const store of map.stores.filter((s): s is DynamoDbStore => s.kind === 'dynamodb')) {
        for (const k of Object.keys(calls)) delete calls[k];
        let findings = 0;
        for (const s of subjects) findings += (await dynamodbConnector.discover(store, identityOf(s), ctx)).length;
        const requests = Object.values(calls).reduce((a, b) => a + b, 0);
        scans += calls.Scan ?? 0;
        perStore[store.name] = { requests: requests / subjects.length, byOperation: { ...calls }, findings: findings / subjects.length };
        o.row({ section: 'discovery', name: `${store.name}: DynamoDB requests per subject`, value: (requests / subjects.length).toFixed(2), baseline: `${(findings / subjects.length).toFixed(2)} items`, ratio: `${(requests / Math.max(1, findings)).toFixed(2)}`, note: Object.entries(calls).map(([k, v]) => `${k} ${v}`).join(', ') + `; Scan ${calls.Scan ?? 0}` });
      }
      counting.destroy();
      out.discovery = { subjects: subjects.length, perStore, scans, note: 'baseline = items found per subject; ratio = requests per item found' };
    }

    if (o.only.has('e2e') || o.only.has('cost')) {
      const plain = report.subjects.filter((s) => !s.flags.fraudInvestigation && !s.flags.legalHeldMedia);
      const verification = ['--verified-by', 'agent-7', '--verification-method', 'id-document', '--verification-ref', 'BENCH-1', '--verified-at', now];
      const e2e: Record<string, { n: number; medianMs: number; p95Ms: number; minMs: number; statuses: Record<string, number> }> = {};
      const costs: Record<string, { transitions: number; lambdaInvocations: number; gbSeconds: number; usd: number }> = {};
      let eraseNext = plain.length - 1;
      for (const type of TYPES) {
        const ms: number[] = [];
        const statuses: Record<string, number> = {};
        const hist: HistoryCost[] = [];
        for (let i = 0; i < o.n; i++) {
          const subject = type === 'erasure' ? plain[eraseNext--] : plain[i % Math.floor(plain.length / 2)];
          const id = `bench-${type}-${i}-${Date.now().toString(36)}`;
          const t0 = performance.now();
          const r = await t.dsr('start', '--type', type, '--subject', subject.subjectId, '--request-id', id, ...verification, '--wait', '--json');
          ms.push(performance.now() - t0);
          const summary = r.out.trim() ? (JSON.parse(r.out.trim().split('\n').pop()!) as { status?: string; execution?: { arn?: string } }) : undefined;
          statuses[summary?.status ?? `exit-${r.code}`] = (statuses[summary?.status ?? `exit-${r.code}`] ?? 0) + 1;
          if (summary?.execution?.arn) hist.push(costOfHistory(await fullHistory(sfn, summary.execution.arn)));
        }
        const sorted = [...ms].sort((a, b) => a - b);
        e2e[type] = { n: o.n, medianMs: quantile(sorted, 0.5), p95Ms: quantile(sorted, 0.95), minMs: sorted[0], statuses };
        if (o.only.has('e2e')) {
          o.row({ section: 'end2end', name: `${type} request, medium dataset (N=${o.n})`, value: `${(e2e[type].medianMs / 1000).toFixed(2)} s median`, baseline: `${(e2e[type].minMs / 1000).toFixed(2)} s min`, ratio: `${(e2e[type].p95Ms / e2e[type].medianMs).toFixed(2)}x`, note: `p95 ${(e2e[type].p95Ms / 1000).toFixed(2)} s (ratio = p95/median); ${JSON.stringify(statuses)}` });
        }
        const avg = (f: (h: HistoryCost) => number) => hist.reduce((a, h) => a + f(h), 0) / Math.max(1, hist.length);
        const transitions = avg((h) => h.transitions);
        const gbSeconds = avg((h) => h.gbSeconds);
        const invocations = avg((h) => h.lambdaInvocations);
        const usd = transitions * PRICES.stepFunctionsTransition + gbSeconds * PRICES.lambdaGbSecond + invocations * PRICES.lambdaRequest;
        costs[type] = { transitions, lambdaInvocations: invocations, gbSeconds, usd };
        if (o.only.has('cost')) {
          const sfnShare = (transitions * PRICES.stepFunctionsTransition) / usd;
          o.row({ section: 'cost', name: `${type}: per request`, value: `$${(usd * 1000).toFixed(4)}/1000`, baseline: `${transitions.toFixed(0)} transitions`, ratio: `${(sfnShare * 100).toFixed(0)}% SFN`, note: `${gbSeconds.toFixed(2)} GB-s over ${invocations.toFixed(0)} Lambda invocations (local handler times x configured memory)` });
        }
      }
      out.endToEnd = e2e;
      out.costModel = { prices: PRICES, perRequestType: costs };
    }
  } finally {
    ddb.destroy();
    s3.destroy();
    sfn.destroy();
    await t.stop();
  }
  return out;
}

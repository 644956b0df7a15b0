/**
 * `dsr retention enforce|report|lifecycle`: the retention-enforcement machine run on demand
 * (it also runs on a schedule), what it found and did, and the S3 lifecycle rules the
 * schedule gives the log stores. Counts, bases and request ids only: no personal value.
 */
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { Command } from 'commander';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../functions/core/config';
import { parseDataMap } from '../../functions/core/datamap';
import { DEFAULT_SCHEDULE, parseSchedule } from '../../functions/core/retention';
import { lifecycleRules, type LifecycleRuleSpec } from '../../functions/core/retention-limits';
import { CliError, EXIT, type Clients, type Printer, parseDateOption } from '../context';
import { executionArn, withClients } from '../executions';
import { retentionReport, retentionRequests } from '../operations/retention-report';
import { waitForExecution } from '../progress';
import { DEFAULT_DATA_MAP } from '../../local/engine';

interface RunOutput {
  plan?: { runId: string; now: string };
  subjects?: { byLimit: Record<string, Record<string, number>>; started: number; error?: string };
  purges?: Array<{ store: string; segment: number; status: string; basis?: string; counts?: { pastLimit: number; purged: number; kept: Record<string, number>; itemsRead: number; readUnits: number } }>;
  summary?: { receiptKey: string; purged: number; started: number; failed: number };
}

async function enforce(c: Clients, opts: { now?: string; json?: boolean; wait?: boolean; timeout: number }, printer: Printer): Promise<number> {
  const arn = process.env.DSR_ENFORCEMENT_STATE_MACHINE_ARN;
  if (!arn) throw new CliError('no retention-enforcement state machine configured (DSR_ENFORCEMENT_STATE_MACHINE_ARN)', EXIT.environment);
  const runId = `enforce-${new Date().toISOString().replace(/[^0-9]/g, '').slice(0, 14)}-${randomBytes(3).toString('hex')}`;
  const started = await c.sfn.send(new StartExecutionCommand({ stateMachineArn: arn, name: runId, input: JSON.stringify({ runId, ...(opts.now ? { now: opts.now } : {}) }) }));
  const execution = await waitForExecution(c, started.executionArn!, opts.timeout, printer, false);
  const out = (execution.output ? JSON.parse(execution.output) : {}) as RunOutput;
  const erasures: Record<string, string> = {};
  if (opts.wait) {
    // Each erasure is a subject-request execution of its own, named after its request id.
    for (const r of await retentionRequests(c, runId)) {
      const done = await waitForExecution(c, executionArn(c.deployment.stateMachineArn, r.requestId), opts.timeout, printer, false);
      erasures[r.requestId] = done.status ?? 'UNKNOWN';
    }
  }
  const result = { runId, status: execution.status, now: out.plan?.now ?? null, subjectLimits: out.subjects?.byLimit ?? {}, subjectLimitsError: out.subjects?.error ?? null, purges: out.purges ?? [], summary: out.summary ?? null, erasures, error: execution.error ?? null };
  if (opts.json) printer.out(JSON.stringify(result));
  else {
    printer.out(`enforcement ${runId} ${execution.status} as of ${result.now}: ${out.summary?.started ?? 0} erasures started, ${out.summary?.purged ?? 0} records purged${execution.error ? ` (${execution.error})` : ''}`);
    for (const [limit, n] of Object.entries(result.subjectLimits)) printer.out(`  ${limit}: ${n.pastLimit} past the limit, ${n.started} started, ${n.alreadyStarted} already started, ${n.keptPendingRequest} kept (pending request), ${n.deferredToNextRun} for the next run`);
    for (const p of result.purges) printer.out(`  ${p.store}${p.segment ? ` segment ${p.segment}` : ''}: ${p.status}, ${p.counts?.pastLimit ?? 0} past the limit, ${p.counts?.purged ?? 0} purged, kept ${JSON.stringify(p.counts?.kept ?? {})}`);
    for (const [id, status] of Object.entries(erasures)) printer.out(`  erasure ${id}: ${status}`);
  }
  return execution.status === 'SUCCEEDED' ? EXIT.ok : EXIT.failed;
}

function configFile(opts: { data?: string; dataMap?: string }): { dataMap: unknown; retention?: unknown } {
  if (opts.dataMap) return { dataMap: JSON.parse(fs.readFileSync(opts.dataMap, 'utf8')) };
  const file = process.env.DSR_CONFIG_FILE ?? (opts.data ? path.join(opts.data, 'config.json') : undefined);
  if (file && fs.existsSync(file)) return loadConfig(file);
  return { dataMap: JSON.parse(fs.readFileSync(DEFAULT_DATA_MAP, 'utf8')) };
}

/** PutBucketLifecycleConfiguration input per bucket. */
export function lifecycleConfigurations(rules: readonly LifecycleRuleSpec[]): Record<string, unknown> {
  const byBucket: Record<string, unknown[]> = {};
  for (const r of rules) {
    (byBucket[r.bucket] ??= []).push({
      ID: r.id,
      Status: 'Enabled',
      Filter: { Prefix: r.prefix },
      ...(r.expirationDays !== undefined ? { Expiration: { Days: r.expirationDays } } : {}),
      ...(r.expiredObjectDeleteMarker ? { Expiration: { ExpiredObjectDeleteMarker: true } } : {}),
      ...(r.noncurrentVersionExpirationDays !== undefined ? { NoncurrentVersionExpiration: { NoncurrentDays: r.noncurrentVersionExpirationDays } } : {}),
    });
  }
  return Object.fromEntries(Object.entries(byBucket).map(([bucket, Rules]) => [bucket, { Bucket: bucket, LifecycleConfiguration: { Rules } }]));
}

export function enforcementCommand(printer: Printer, setExit: (code: number) => void): Command {
  const retention = new Command('retention').description('retention limits kept without a request: enforcement runs, their report, the log stores\' lifecycle rules');
  retention
    .command('enforce')
    .description('run the retention-enforcement machine: erase subjects past a subject-level limit, purge records past a record-level one (holds and pending requests kept); one receipt')
    .option('--now <date>', 'enforce as of this date (the local engine allows future dates)')
    .option('--wait', 'also wait for the erasures it started')
    .option('--json', 'print one JSON object')
    .option('--timeout <seconds>', 'how long to wait for each execution', (v) => Number(v), 900)
    .option('--data <dir>', 'a local engine\'s directory')
    .action(async (opts: { now?: string; wait?: boolean; json?: boolean; timeout: number; data?: string }) => {
      const now = opts.now ? parseDateOption(opts.now, '--now') : undefined;
      await withClients(opts, async (c) => setExit(await enforce(c, { ...opts, now }, printer)));
    });
  retention
    .command('report')
    .description('per store and limit: what is past its limit, what was purged or erased, what is kept and why; counts and bases only')
    .option('--now <date>', 'as of this date (runs and requests up to it)')
    .option('--json', 'print one JSON object')
    .option('--data <dir>', 'a local engine\'s directory')
    .action(async (opts: { now?: string; json?: boolean; data?: string }) => {
      const now = opts.now ? parseDateOption(opts.now, '--now') : undefined;
      await withClients(opts, async (c) => {
        const report = await retentionReport(c, now);
        if (opts.json) return printer.out(JSON.stringify(report));
        printer.out(`retention report${now ? ` as of ${now}` : ''}: ${report.runs as number} enforcement runs`);
        for (const [store, s] of Object.entries(report.stores as Record<string, { basis: string; pastLimit: number; purged: number; kept: Record<string, number> }>)) {
          printer.out(`  ${store} (basis ${s.basis}): ${s.pastLimit} past the limit, ${s.purged} purged, kept ${Object.entries(s.kept).map(([b, n]) => `${n} ${b}`).join(', ') || 'none'}`);
        }
        for (const [limit, l] of Object.entries(report.subjectErasures as Record<string, { requests: number; outcomes: Record<string, number>; kept: Record<string, Record<string, number>> }>)) {
          printer.out(`  ${limit}: ${l.requests} erasures (${Object.entries(l.outcomes).map(([o, n]) => `${n} ${o}`).join(', ')}); kept ${JSON.stringify(l.kept)}`);
        }
      });
    });
  retention
    .command('lifecycle')
    .description('the S3 lifecycle rules the schedule gives the log stores (PutBucketLifecycleConfiguration input per bucket)')
    .option('--json', 'print JSON')
    .option('--data <dir>', 'a local engine\'s directory (its data map)')
    .option('--data-map <file>', 'a data map file')
    .action((opts: { json?: boolean; data?: string; dataMap?: string }) => {
      const config = configFile(opts);
      const rules = lifecycleRules(parseDataMap(config.dataMap), config.retention === undefined ? DEFAULT_SCHEDULE : parseSchedule(config.retention));
      if (opts.json) return printer.out(JSON.stringify(lifecycleConfigurations(rules)));
      for (const r of rules) printer.out(`${r.bucket}  ${r.id}  prefix "${r.prefix}"  ${r.expirationDays !== undefined ? `expire after ${r.expirationDays} days` : r.noncurrentVersionExpirationDays !== undefined ? `noncurrent versions after ${r.noncurrentVersionExpirationDays} day(s)` : 'expired delete markers'}  (${r.source})`);
    });
  return retention;
}

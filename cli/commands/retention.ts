/** `dsr hold place|release|list` and `dsr sweep`: legal holds and deferred erasure. */
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { Command } from 'commander';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { connectorFor } from '../../functions/connectors';
import { loadConfig, type DsrConfig } from '../../functions/core/config';
import { HoldError, listHolds, placeHold, releaseHold } from '../../functions/core/hold-ledger';
import { resolveIdentity } from '../../functions/core/identity';
import { HOLD_KINDS, type HoldKind } from '../../functions/core/retention';
import { createAnonymizer } from '../../functions/core/anonymize';
import { CliError, EXIT, type Clients, type Printer } from '../context';
import { withClients } from '../executions';
import { waitForExecution } from '../progress';
import { enforcementCommand } from './retention-enforcement';

function deploymentConfig(c: Clients): DsrConfig {
  const file = process.env.DSR_CONFIG_FILE ?? (c.deployment.localDir ? path.join(c.deployment.localDir, 'config.json') : undefined);
  if (!file || !fs.existsSync(file)) throw new CliError('the data map is needed to check a hold: set DSR_CONFIG_FILE or use a local engine (--data DIR)', EXIT.environment);
  return loadConfig(file);
}

function parseDate(value: string, flag: string): string {
  const d = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(d.getTime())) throw new CliError(`${flag}: not a date: "${value}" (use ISO 8601, e.g. 2027-01-31 or 2027-01-31T00:00:00Z)`);
  return d.toISOString();
}

export function retentionCommands(printer: Printer, setExit: (code: number) => void): Command[] {
  const hold = new Command('hold').description('legal holds: keep a subject\'s or a store\'s data whatever the schedule says, until released');

  hold
    .command('place')
    .description('place a hold on a subject or on a whole store')
    .option('--subject <id>', 'the subject to hold')
    .option('--store <name>', 'a store of the data map to hold entirely')
    .requiredOption('--kind <kind>', HOLD_KINDS.join(' | '))
    .requiredOption('--reference <ref>', 'court file, request or case number')
    .requiredOption('--placed-by <who>', 'who places it')
    .option('--ends-at <date>', 'the hold ends by itself at this date')
    .option('--json', 'print the hold as JSON')
    .option('--data <dir>', 'a local engine\'s directory')
    .action(async (opts: { subject?: string; store?: string; kind: string; reference: string; placedBy: string; endsAt?: string; json?: boolean; data?: string }) => {
      if (Boolean(opts.subject) === Boolean(opts.store)) throw new CliError('give exactly one of --subject or --store');
      if (!(HOLD_KINDS as readonly string[]).includes(opts.kind)) throw new CliError(`--kind: unknown kind "${opts.kind}"; use one of ${HOLD_KINDS.join(', ')}`);
      const endsAt = opts.endsAt ? parseDate(opts.endsAt, '--ends-at') : undefined;
      await withClients(opts, async (c) => {
        const config = deploymentConfig(c);
        if (opts.store && !config.dataMap.stores.some((s) => s.name === opts.store)) {
          throw new CliError(`--store: no store "${opts.store}" in the data map (stores: ${config.dataMap.stores.map((s) => s.name).join(', ')})`);
        }
        if (opts.subject) {
          const ctx = { dynamodb: c.dynamodb, s3: c.s3, now: new Date(), anonymizer: createAnonymizer('x'.repeat(32)), log: () => undefined };
          const resolved = await resolveIdentity(config.dataMap, opts.subject, connectorFor, ctx);
          if (!resolved.found) throw new CliError('--subject: no store knows this subject; no hold placed');
        }
        const holdId = `hold-${randomBytes(6).toString('hex')}`;
        const placed = await placeHold(
          c,
          { scope: opts.subject ? 'subject' : 'store', subjectId: opts.subject, store: opts.store, kind: opts.kind as HoldKind, reference: opts.reference, placedBy: opts.placedBy, endsAt },
          new Date(),
          holdId,
        );
        printer.out(opts.json ? JSON.stringify(placed) : `placed ${holdId} (${placed.kind}) on ${placed.scope === 'store' ? `store ${placed.store}` : 'the subject'}`);
      });
    });

  hold
    .command('release')
    .description('release an active hold; what it kept is erased by the next sweep')
    .argument('<holdId>')
    .requiredOption('--released-by <who>', 'who releases it')
    .option('--data <dir>', 'a local engine\'s directory')
    .action(async (holdId: string, opts: { releasedBy: string; data?: string }) =>
      withClients(opts, async (c) => {
        try {
          await releaseHold(c, holdId, opts.releasedBy, new Date());
        } catch (err) {
          if (err instanceof HoldError) throw new CliError(err.message);
          throw err;
        }
        printer.out(`released ${holdId}`);
      }),
    );

  hold
    .command('list')
    .description('holds, active first')
    .option('--json', 'print JSON')
    .option('--data <dir>', 'a local engine\'s directory')
    .action(async (opts: { json?: boolean; data?: string }) =>
      withClients(opts, async (c) => {
        const holds = (await listHolds(c)).sort((a, b) => (a.status === b.status ? a.placedAt.localeCompare(b.placedAt) : a.status === 'active' ? -1 : 1));
        if (opts.json) return printer.out(JSON.stringify(holds));
        for (const h of holds) {
          printer.out(`${h.holdId}  ${h.status.padEnd(8)} ${h.kind.padEnd(15)} ${h.scope === 'store' ? `store ${h.store}` : `subject ${h.subjectId}`}  ref ${h.reference}  by ${h.placedBy} ${h.placedAt}${h.endsAt ? `  ends ${h.endsAt}` : ''}`);
        }
        if (holds.length === 0) printer.out('no holds');
      }),
    );

  const sweep = new Command('sweep')
    .description('erase what has come due (retention over, hold released or ended); writes receipts. Runs again while a run left due entries for the next one')
    .option('--now <date>', 'sweep as of this date (the local engine allows future dates)')
    .option('--json', 'print one JSON object')
    .option('--timeout <seconds>', 'how long to wait for each run', (v) => Number(v), 900)
    .option('--data <dir>', 'a local engine\'s directory')
    .action(async (opts: { now?: string; json?: boolean; timeout: number; data?: string }) => {
      const now = opts.now ? parseDate(opts.now, '--now') : undefined;
      await withClients(opts, async (c) => {
        const arn = c.deployment.sweepStateMachineArn;
        if (!arn) throw new CliError('no sweep state machine configured (DSR_SWEEP_STATE_MACHINE_ARN)', EXIT.environment);
        const total = { sweepIds: [] as string[], status: 'SUCCEEDED' as string, now: (now ?? null) as string | null, due: 0, erased: 0, receipts: 0, failed: 0, remaining: 0, error: null as string | null };
        // A run sweeps at most sweepMaxEntries entries, from where the last run stopped: run again
        // until every entry that was due at the first run has had its turn.
        for (let owed = Infinity; ; ) {
          const sweepId = `sweep-${new Date().toISOString().replace(/[^0-9]/g, '').slice(0, 14)}-${randomBytes(3).toString('hex')}`;
          const started = await c.sfn.send(new StartExecutionCommand({ stateMachineArn: arn, name: sweepId, input: JSON.stringify({ sweepId, ...(now ? { now } : {}) }) }));
          const execution = await waitForExecution(c, started.executionArn!, opts.timeout, printer, false);
          const output = execution.output
            ? (JSON.parse(execution.output) as { sweep?: { count: number; now: string; remaining?: number }; summary?: { receipts: number; erased: number; failed: number } })
            : {};
          const run = { sweepId, status: execution.status, due: output.sweep?.count ?? 0, remaining: output.sweep?.remaining ?? 0, receipts: 0, erased: 0, failed: 0, ...output.summary };
          total.sweepIds.push(sweepId);
          total.now = output.sweep?.now ?? total.now;
          total.due += run.due;
          total.erased += run.erased;
          total.receipts += run.receipts;
          total.failed += run.failed;
          total.remaining = run.remaining;
          total.status = execution.status ?? 'UNKNOWN';
          total.error = execution.error ?? null;
          if (!opts.json) printer.out(`sweep ${sweepId} ${run.status}: ${run.due} entries due, ${run.erased} records erased, ${run.receipts} receipts${run.remaining ? `, ${run.remaining} left for the next run` : ''}${execution.error ? ` (${execution.error})` : ''}`);
          if (owed === Infinity) owed = run.due + run.remaining;
          owed -= run.due;
          if (execution.status !== 'SUCCEEDED' || run.remaining === 0 || owed <= 0) break;
        }
        if (opts.json) printer.out(JSON.stringify({ ...total, sweepId: total.sweepIds.at(-1), runs: total.sweepIds.length }));
        setExit(total.status === 'SUCCEEDED' ? EXIT.ok : EXIT.failed);
      });
    });
  return [hold, sweep, enforcementCommand(printer, setExit)];
}

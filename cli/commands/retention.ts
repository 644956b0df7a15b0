/** `dsr hold place|release|list` and `dsr sweep`: legal holds and deferred erasure. */
import { Command } from 'commander';
import { listHolds } from '../../functions/core/hold-ledger';
import { HOLD_KINDS } from '../../functions/core/retention';
import { placeCheckedHold, releaseHoldAs, startSweepRun, sweepRunResult } from '../operations/holds';
import { EXIT, parseDateOption, type Printer } from '../context';
import { withClients } from '../executions';
import { waitForExecution } from '../progress';
import { enforcementCommand } from './retention-enforcement';

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
      const endsAt = opts.endsAt ? parseDateOption(opts.endsAt, '--ends-at') : undefined;
      await withClients(opts, async (c) => {
        const placed = await placeCheckedHold(c, { ...opts, endsAt }, { subject: '--subject', store: '--store', kind: '--kind' });
        const holdId = placed.holdId;
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
        await releaseHoldAs(c, holdId, opts.releasedBy);
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
      const now = opts.now ? parseDateOption(opts.now, '--now') : undefined;
      await withClients(opts, async (c) => {
        const total = { sweepIds: [] as string[], status: 'SUCCEEDED' as string, now: (now ?? null) as string | null, due: 0, erased: 0, receipts: 0, failed: 0, remaining: 0, error: null as string | null };
        // A run sweeps at most sweepMaxEntries entries, from where the last run stopped: run again
        // until every entry that was due at the first run has had its turn.
        for (let owed = Infinity; ; ) {
          const { sweepId, executionArn } = await startSweepRun(c, now);
          const execution = await waitForExecution(c, executionArn, opts.timeout, printer, false);
          const run = sweepRunResult(sweepId, execution);
          total.sweepIds.push(sweepId);
          total.now = run.now ?? total.now;
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

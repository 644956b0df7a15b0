/**
 * `dsr logs erase-pending` and `dsr logs queue`: the batched log-erasure pass. Erasure
 * requests queue their big log stores; the scheduled `log-erasure` machine erases every queued
 * subject in one read of each store. `erase-pending` runs that machine now (what the schedule
 * does daily); `queue` lists what waits, by request id, store and deadline, never a subject.
 */
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { Command } from 'commander';
import { randomBytes } from 'node:crypto';
import { queuedLogErasures } from '../../functions/core/log-queue';
import { CliError, EXIT, type Printer, parseDateOption } from '../context';
import { withClients } from '../executions';
import { waitForExecution } from '../progress';

interface PassOutput {
  pass?: { passId: string | null; status: string; units: number; subjects: number; requests: number; postponed: number };
  summary?: { requests: number; erased: number; postponed: number; objectsRewritten: number; objectsVerified: number };
}

export function logsCommand(printer: Printer, setExit: (code: number) => void): Command {
  const logs = new Command('logs').description('the batched log-erasure pass: what is queued, and running it');

  logs
    .command('erase-pending')
    .description('run the log-erasure pass now over every queued request (the schedule runs it daily); resumes an unfinished pass')
    .option('--if-due', 'do what the scheduled run does: nothing unless the interval is over or a deadline is near')
    .option('--now <date>', 'decide retention as of this date (the local engine allows future dates)')
    .option('--json', 'print one JSON object')
    .option('--timeout <seconds>', 'how long to wait for the pass', (v) => Number(v), 3600)
    .option('--data <dir>', "a local engine's directory")
    .action(async (opts: { ifDue?: boolean; now?: string; json?: boolean; timeout: number; data?: string }) => {
      const now = opts.now ? parseDateOption(opts.now, '--now') : undefined;
      await withClients(opts, async (c) => {
        const arn = c.deployment.logErasureStateMachineArn;
        if (!arn) throw new CliError('no log-erasure state machine configured (DSR_LOG_ERASURE_STATE_MACHINE_ARN)', EXIT.environment);
        const name = `logpass-${new Date().toISOString().replace(/[^0-9]/g, '').slice(0, 14)}-${randomBytes(3).toString('hex')}`;
        const started = await c.sfn.send(new StartExecutionCommand({ stateMachineArn: arn, name, input: JSON.stringify({ force: !opts.ifDue, ...(now ? { now } : {}) }) }));
        const execution = await waitForExecution(c, started.executionArn!, opts.timeout, printer, false);
        const output = (execution.output ? JSON.parse(execution.output) : {}) as PassOutput;
        const result = { execution: name, status: execution.status ?? 'UNKNOWN', error: execution.error ?? null, pass: output.pass ?? null, summary: output.summary ?? null };
        if (opts.json) printer.out(JSON.stringify(result));
        else if (execution.status !== 'SUCCEEDED') printer.out(`log pass ${name} ${execution.status}${execution.error ? ` (${execution.error})` : ''}: the next run resumes it`);
        else if (!output.pass || output.pass.units === 0 && output.pass.status !== 'started') printer.out(`log pass ${name}: ${output.pass?.status === 'not-due' ? 'not due yet (no deadline near)' : 'nothing queued'}`);
        else {
          const p = output.pass;
          const s = output.summary;
          printer.out(`log pass ${p.passId} ${p.status}: ${p.units} units, ${p.subjects} subjects, ${p.requests} requests${p.postponed ? `, ${p.postponed} postponed` : ''}`);
          if (s) printer.out(`  ${s.erased} queued stores erased, ${s.postponed} postponed, ${s.objectsRewritten} objects rewritten (${s.objectsVerified} verified), ${s.requests} receipts`);
        }
        setExit(execution.status === 'SUCCEEDED' ? EXIT.ok : EXIT.failed);
      });
    });

  logs
    .command('queue')
    .description('what waits for the log-erasure pass: request id, store, status and deadline')
    .option('--all', 'also the entries already erased')
    .option('--json', 'print JSON')
    .option('--data <dir>', "a local engine's directory")
    .action(async (opts: { all?: boolean; json?: boolean; data?: string }) =>
      withClients(opts, async (c) => {
        const entries = await queuedLogErasures(c, { includeDone: opts.all });
        if (opts.json) return printer.out(JSON.stringify(entries));
        if (entries.length === 0) return printer.out(opts.all ? 'nothing was ever queued' : 'nothing queued');
        for (const e of entries) {
          printer.out(`${e.requestId}  ${e.store.padEnd(16)} ${e.status.padEnd(8)} due ${e.dueBy.slice(0, 10)}${e.passId ? `  pass ${e.passId}` : ''}${e.postponed ? `  postponed ${e.postponed}x (${e.lastPostponedBecause})` : ''}`);
        }
      }),
    );
  return logs;
}

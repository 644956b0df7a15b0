/**
 * `dsr cancel`: stop a request that waits for approval or runs. Running, it is cooperative
 * (functions/core/cancel.ts explains why not StopExecution): the flag is set, the execution
 * stops at its next unit of work and writes the `cancelled` receipt itself. At rest (awaiting
 * approval, rejected, planned, failed), no execution runs: the CLI ends it and writes the receipt.
 */
import { DescribeExecutionCommand } from '@aws-sdk/client-sfn';
import { Command } from 'commander';
import { CANCELLED, cancelAtRest, cancelledReceipt, CancelRefusedError, requestCancel } from '../../functions/core/cancel';
import { ANSWERED } from '../../functions/core/deadlines';
import type { RequestRecord } from '../../functions/core/ledger';
import { CliError, EXIT, type Clients, type Printer } from '../context';
import { cliClock } from '../deadline-context';
import { currentReceipt, requestExecutions, requireRequest, withClients } from '../executions';
import { waitForExecution } from '../progress';

interface CancelOptions {
  reason: string;
  wait?: boolean;
  json?: boolean;
  timeout: number;
  data?: string;
}

export function cancelCommand(printer: Printer, setExit: (code: number) => void): Command {
  return new Command('cancel')
    .description('cancel a request awaiting approval or running: it stops between units of work (a store begun is finished, one not begun is left untouched), with a `cancelled` receipt')
    .argument('<requestId>')
    .requiredOption('--reason <text>', 'why (kept in the ledger; the receipt carries its hash)')
    .option('--wait', 'wait for a running request to stop')
    .option('--json', 'print one JSON object')
    .option('--timeout <seconds>', 'how long --wait waits', (v) => Number(v), 900)
    .option('--data <dir>', 'a local engine\'s directory')
    .action(async (requestId: string, opts: CancelOptions) =>
      withClients(opts, async (c) => {
        if (opts.reason.trim() === '') throw new CliError('--reason: say why the request is cancelled');
        const record = await requireRequest(c, requestId);
        if (record.status === 'cancelled') return report(c, printer, requestId, opts, 'already cancelled');
        if (ANSWERED.has(record.status)) throw new CliError(`cancel refused: request ${requestId} is ${record.status}; an answered request cannot be cancelled`, EXIT.refused);
        const now = cliClock(c).now();
        let flag;
        try {
          flag = await requestCancel(c, record, opts.reason, now);
        } catch (err) {
          if (err instanceof CancelRefusedError) throw new CliError(`cancel refused: ${err.message}`, EXIT.refused);
          throw err;
        }
        const running = (await requestExecutions(c, requestId)).filter((e) => e.status === 'RUNNING');
        if (running.length === 0) {
          await cancelResting(c, { ...record, cancelRequested: flag }, now);
          return report(c, printer, requestId, opts, 'cancelled');
        }
        if (!opts.wait) {
          const out = { requestId, status: 'cancel-requested', executions: running.map((e) => e.name) };
          return printer.out(opts.json ? JSON.stringify(out) : `cancel requested: ${requestId} stops at its next unit of work (npx dsr status ${requestId})`);
        }
        for (const e of running) await waitForExecution(c, e.executionArn!, opts.timeout, printer, !opts.json);
        const after = await requireRequest(c, requestId);
        if (after.status !== 'cancelled') {
          const last = await c.sfn.send(new DescribeExecutionCommand({ executionArn: running[running.length - 1].executionArn! }));
          printer.err(`dsr: request ${requestId} ended ${after.status} (${last.status}) before the cancel took effect`);
          return setExit(EXIT.refused);
        }
        return report(c, printer, requestId, opts, 'cancelled');
      }),
    );
}

/** No execution runs: end the request here; an execution ending meanwhile may have done it already. */
async function cancelResting(c: Clients, record: RequestRecord, now: Date): Promise<void> {
  try {
    await cancelAtRest(c, record, now);
  } catch (err) {
    if (!(err instanceof CancelRefusedError)) throw err;
    if ((await requireRequest(c, record.request.requestId)).status !== 'cancelled') throw new CliError(`cancel refused: ${err.message}`, EXIT.refused);
    return;
  }
  // Nothing applied by a request at rest: no store is in the receipt; a failed run's own receipt says what it did.
  const receipt = await cancelledReceipt(c, record, [], now);
  await c.ledger.setStatus(record.request.requestId, 'cancelled', now, { receiptKey: `receipt/${receipt.sequence}`, reason: CANCELLED });
}

async function report(c: Clients, printer: Printer, requestId: string, opts: CancelOptions, how: string): Promise<void> {
  const record = await requireRequest(c, requestId);
  const receipt = await currentReceipt(c, record, requestId);
  const body = receipt ? (JSON.parse(receipt.body) as Record<string, unknown>) : undefined;
  const out = { requestId, status: record.status, receipt: receipt ? { sequence: receipt.sequence, hash: receipt.hash } : null, stores: body?.stores ?? null };
  if (opts.json) return printer.out(JSON.stringify(out));
  printer.out(`request ${requestId} ${how}${receipt ? `: receipt #${receipt.sequence} sha256 ${receipt.hash}` : ''}`);
  for (const [store, s] of Object.entries((body?.stores ?? {}) as Record<string, { state: string } & Record<string, unknown>>)) {
    const { state, ...counts } = s;
    printer.out(`  ${store}: ${state}${state === 'done' ? ` (${Object.entries(counts).filter(([, n]) => n !== 0).map(([k, n]) => `${k} ${String(n)}`).join(', ') || 'nothing to do'})` : ''}`);
  }
  printer.out(`  a new request for the same subject finishes what is left`);
}

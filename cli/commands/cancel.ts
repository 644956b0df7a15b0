/**
 * `dsr cancel`: stop a request that waits for approval or runs (cli/operations/cancel.ts, shared
 * with the console's API); `--wait` follows a running one until it has stopped.
 */
import { DescribeExecutionCommand } from '@aws-sdk/client-sfn';
import { Command } from 'commander';
import { EXIT, type Clients, type Printer } from '../context';
import { requireRequest, withClients } from '../executions';
import { cancelReport, cancelRequest } from '../operations/cancel';
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
        const started = await cancelRequest(c, requestId, opts.reason);
        if (started.outcome !== 'cancel-requested') return report(c, printer, requestId, opts, started.outcome === 'cancelled' ? 'cancelled' : 'already cancelled');
        const { running } = started;
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

async function report(c: Clients, printer: Printer, requestId: string, opts: CancelOptions, how: string): Promise<void> {
  const out = await cancelReport(c, requestId);
  if (opts.json) return printer.out(JSON.stringify(out));
  const { receipt } = out;
  printer.out(`request ${requestId} ${how}${receipt ? `: receipt #${receipt.sequence} sha256 ${receipt.hash}` : ''}`);
  for (const [store, s] of Object.entries(out.stores ?? {})) {
    const { state, ...counts } = s;
    printer.out(`  ${store}: ${state}${state === 'done' ? ` (${Object.entries(counts).filter(([, n]) => n !== 0).map(([k, n]) => `${k} ${String(n)}`).join(', ') || 'nothing to do'})` : ''}`);
  }
  printer.out(`  a new request for the same subject finishes what is left`);
}

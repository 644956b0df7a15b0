/**
 * `dsr lift-restriction` and `dsr rectification done`: changes to a request after it ran, each
 * with a receipt of its own in the chain (who, when, what).
 */
import { Command } from 'commander';
import { actorHash, appendReceipt, LIFTED } from '../../functions/core/receipt';
import { CliError, type Printer } from '../context';
import { requireRequest, startExecution, waitAndReport, withClients } from '../executions';

const article = (type: string) => (type === 'access' ? 'an' : 'a');

export function changeCommands(printer: Printer, setExit: (code: number) => void): Command[] {
  const lift = new Command('lift-restriction')
    .description('lift the restriction a restriction request placed: every record it marked is unmarked; the lift has its own receipt')
    .argument('<requestId>', 'the restriction request')
    .requiredOption('--by <who>', 'your staff id (kept in the ledger; the lift\'s receipt carries its hash)')
    .option('--json', 'print one JSON object')
    .option('--timeout <seconds>', 'how long to wait', (v) => Number(v), 900)
    .option('--data <dir>', 'a local engine\'s directory')
    .action(async (requestId: string, opts: { by: string; json?: boolean; timeout: number; data?: string }) =>
      withClients(opts, async (c) => {
        const record = await requireRequest(c, requestId);
        if (record.request.type !== 'restriction') throw new CliError(`request ${requestId} is ${article(record.request.type)} ${record.request.type} request, not a restriction`);
        // Who asked goes in the ledger first; the machine's receipt of the lift carries its hash.
        if (!(await c.ledger.getActor(requestId, LIFTED))) await c.ledger.putActor(requestId, LIFTED, opts.by, new Date());
        const arn = await startExecution(c, { requestId, requestHash: record.requestHash, mode: 'lift' });
        setExit(await waitAndReport(c, requestId, arn, opts, printer));
      }),
    );

  const rectification = new Command('rectification').description('rectification requests, which a person carries out');
  rectification
    .command('done')
    .description('record that the person routed a rectification has made the correction: a receipt (with your reference) closes it')
    .argument('<requestId>', 'the rectification request')
    .requiredOption('--by <who>', 'your staff id: who made the correction (kept in the ledger; the receipt carries its hash)')
    .requiredOption('--reference <ref>', 'the ticket or case of the correction (goes in the receipt)')
    .option('--json', 'print one JSON object')
    .option('--data <dir>', 'a local engine\'s directory')
    .action(async (requestId: string, opts: { by: string; reference: string; json?: boolean; data?: string }) =>
      withClients(opts, async (c) => {
        const record = await requireRequest(c, requestId);
        if (record.request.type !== 'rectification') throw new CliError(`request ${requestId} is ${article(record.request.type)} ${record.request.type} request, not a rectification`);
        if (record.status !== 'routed-to-person') throw new CliError(`request ${requestId} is ${record.status}, not routed to a person (start it, and let it finish, first)`);
        const now = new Date();
        // A receipt of its own, chained after the routing receipt (one receipt per id).
        const receipt = await appendReceipt(c, {
          receiptVersion: 1,
          kind: 'request',
          id: `${requestId}--rectified`,
          requestId,
          type: 'rectification',
          change: 'rectified',
          outcome: 'rectified-by-person',
          actorHash: actorHash(requestId, 'rectified', opts.by),
          reference: opts.reference,
          completedAt: now.toISOString(),
        });
        await c.ledger.putActor(requestId, 'rectified', opts.by, now);
        await c.ledger.setStatus(requestId, 'completed', now, { receiptKey: `receipt/${receipt.sequence}`, reason: `rectified by ${opts.by}` });
        const result = { requestId, status: 'completed', receipt: { sequence: receipt.sequence, hash: receipt.hash } };
        printer.out(opts.json ? JSON.stringify(result) : `rectification ${requestId} recorded as done: receipt #${receipt.sequence} sha256 ${receipt.hash}`);
      }),
    );
  return [lift, rectification];
}

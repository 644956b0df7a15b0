/** `dsr receipt <requestId>` and `dsr receipt verify`: receipts and their hash chain. */
import { Command } from 'commander';
import { allReceipts, checkChain, receiptForRequest, type StoredReceipt } from '../../functions/core/receipt';
import { CliError, EXIT, type Printer } from '../context';
import { withClients } from './request';

export function receiptCommand(printer: Printer, setExit: (code: number) => void): Command {
  const receipt = new Command('receipt')
    .description('print a request\'s receipt, or verify the receipt chain')
    .argument('[requestId]')
    .option('--data <dir>', 'a local engine\'s directory')
    .action(async (requestId: string | undefined, opts: { data?: string }) => {
      if (!requestId) throw new CliError('give a request id, or use: dsr receipt verify');
      await withClients(opts, async (c) => {
        const stored = await receiptForRequest(c, requestId);
        if (!stored) throw new CliError(`request ${requestId} has no receipt yet`);
        printer.out(JSON.stringify({ sequence: stored.sequence, sha256: stored.hash, previous: stored.previousHash, receipt: JSON.parse(stored.body) }, null, 2));
      });
    });
  receipt
    .command('verify')
    .description('recompute every receipt\'s hash and link; exit 1 if the chain is broken')
    .option('--data <dir>', 'a local engine\'s directory')
    .action(async (opts: { data?: string }) =>
      withClients(opts, async (c) => {
        const receipts: StoredReceipt[] = [];
        for await (const r of allReceipts(c)) receipts.push(r);
        const check = checkChain(receipts);
        if (check.ok) printer.out(`receipt chain intact: ${check.count} receipts`);
        else {
          for (const p of check.problems) printer.out(p);
          setExit(EXIT.failed);
        }
      }),
    );
  return receipt;
}

/**
 * `dsr extend` and `dsr requests`: the statutory clock of requests. An extension is a change
 * receipt in the chain (the new due date, the reason's hash); the reason stays in the ledger.
 * The listing reads the ledger's deadline index and never shows a subject id.
 */
import { Command } from 'commander';
import { extendDeadline, ExtensionRefusedError, listRequests, REQUEST_ORIGINS, type ListedRequest } from '../../functions/core/deadlines';
import { InvalidInputError } from '../../functions/core/errors';
import { REQUEST_STATUSES, type RequestStatus } from '../../functions/core/ledger';
import { appendReceipt } from '../../functions/core/receipt';
import { REQUEST_TYPES } from '../../functions/core/request';
import { CliError, EXIT, type Printer } from '../context';
import { cliClock, cliDeadlineSettings } from '../deadline-context';
import { requireRequest, withClients } from '../executions';

/** The change id of an extension (there is one per request). */
export const EXTENDED = 'deadline-extended';

const STATUSES: readonly RequestStatus[] = REQUEST_STATUSES;

/** `7d`, `7`, `48h`: a window in days (hours are rounded up to whole days' fractions). */
export function parseWindow(text: string): number {
  const m = /^(\d{1,3})(d|h)?$/.exec(text.trim());
  if (!m) throw new CliError('--due-within: give a number of days such as 7d (or hours, 48h)');
  return m[2] === 'h' ? Number(m[1]) / 24 : Number(m[1]);
}

export function deadlineCommands(printer: Printer, setExit: (code: number) => void): Command[] {
  const extend = new Command('extend')
    .description('extend a request\'s deadline once, by at most 30 days, before the first deadline (PIPEDA s.8(4)); the notice is a receipt in the chain')
    .argument('<requestId>')
    .requiredOption('--days <n>', 'how many days (1-30)', (v) => Number(v))
    .requiredOption('--reason <text>', 'why (kept in the ledger; the receipt carries its hash)')
    .option('--json', 'print one JSON object')
    .option('--data <dir>', 'a local engine\'s directory')
    .action(async (requestId: string, opts: { days: number; reason: string; json?: boolean; data?: string }) =>
      withClients(opts, async (c) => {
        const record = await requireRequest(c, requestId);
        if (opts.reason.trim() === '') throw new CliError('--reason: say why the deadline is extended');
        let extension;
        try {
          extension = await extendDeadline(c, record, { days: opts.days, reason: opts.reason, now: cliClock(c).now(), settings: cliDeadlineSettings(c) });
        } catch (err) {
          if (err instanceof ExtensionRefusedError) throw new CliError(`extension refused (${err.reason}): ${err.message}`, EXIT.refused);
          if (err instanceof InvalidInputError) throw new CliError(`--days: ${err.message}`);
          throw err;
        }
        const receipt = await appendReceipt(c, {
          receiptVersion: 1,
          kind: 'change',
          id: EXTENDED,
          requestId,
          type: record.request.type,
          change: EXTENDED,
          firstDueAt: extension.firstDueAt,
          dueAt: extension.dueAt,
          days: extension.days,
          reasonHash: extension.reasonHash,
          at: extension.at,
        });
        const result = { requestId, dueAt: extension.dueAt, firstDueAt: extension.firstDueAt, days: extension.days, receipt: { sequence: receipt.sequence, hash: receipt.hash } };
        printer.out(opts.json ? JSON.stringify(result) : `request ${requestId}: due ${extension.dueAt} (was ${extension.firstDueAt}, extended by ${extension.days} days); notice receipt #${receipt.sequence} sha256 ${receipt.hash}`);
      }),
    );

  const requests = new Command('requests')
    .description('list requests by due date: id, type, origin, status, received, due, days left (never the subject)')
    .option('--overdue', 'open requests past their deadline')
    .option('--due-within <window>', 'open requests due within this window, e.g. 7d')
    .option('--status <status>', `one status: ${STATUSES.join(', ')}`)
    .option('--type <type>', `one type: ${REQUEST_TYPES.join(', ')}`)
    .option('--origin <origin>', `who asked: ${REQUEST_ORIGINS.join(', ')}`)
    .option('--json', 'print one JSON object')
    .option('--data <dir>', 'a local engine\'s directory')
    .action(async (opts: { overdue?: boolean; dueWithin?: string; status?: string; type?: string; origin?: string; json?: boolean; data?: string }) =>
      withClients(opts, async (c) => {
        if (opts.status !== undefined && !STATUSES.includes(opts.status as RequestStatus)) throw new CliError(`--status: one of ${STATUSES.join(', ')}`);
        if (opts.type !== undefined && !(REQUEST_TYPES as readonly string[]).includes(opts.type)) throw new CliError(`--type: one of ${REQUEST_TYPES.join(', ')}`);
        if (opts.origin !== undefined && !(REQUEST_ORIGINS as readonly string[]).includes(opts.origin)) throw new CliError(`--origin: one of ${REQUEST_ORIGINS.join(', ')}`);
        const now = cliClock(c).now();
        const rows = await listRequests(c, {
          now,
          overdue: opts.overdue,
          dueWithinDays: opts.dueWithin !== undefined ? parseWindow(opts.dueWithin) : undefined,
          status: opts.status as RequestStatus | undefined,
          type: opts.type,
          origin: opts.origin,
        });
        if (opts.json) return printer.out(JSON.stringify({ now: now.toISOString(), count: rows.length, requests: rows }));
        printTable(printer, rows);
        setExit(EXIT.ok);
      }),
    );
  return [extend, requests];
}

function printTable(printer: Printer, rows: readonly ListedRequest[]): void {
  if (rows.length === 0) return printer.out('no requests match');
  const table = [
    ['request', 'type', 'origin', 'status', 'received', 'due', 'days left'],
    ...rows.map((r) => [r.requestId, r.type, r.origin, r.status, r.receivedAt.slice(0, 16).replace('T', ' '), `${r.dueAt.slice(0, 16).replace('T', ' ')}${r.extended ? ' (ext)' : ''}`, r.overdue ? `${r.daysLeft} (overdue)` : String(r.daysLeft)]),
  ];
  const widths = table[0].map((_, i) => Math.max(...table.map((row) => row[i].length)));
  for (const row of table) printer.out(row.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd());
}

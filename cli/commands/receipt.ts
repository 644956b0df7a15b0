/**
 * `dsr receipt <requestId>` and `dsr receipt verify`: receipts and their hash chain. A receipt
 * prints as a summary a person reads (`--json`: the stored document; `--html FILE`: a page an
 * auditor files, with its hash). Receipts carry no personal value; the HTML escapes everything.
 */
import fs from 'node:fs';
import { Command } from 'commander';
import { allReceipts, changeReceipts, checkChain, receiptForRequest, type StoredReceipt } from '../../functions/core/receipt';
import { CliError, EXIT, type Clients, type Printer } from '../context';
import { decisionLine, purposeLines, purposeText, readable, withClients } from '../executions';

type Counts = Record<string, number>;

interface ReceiptDoc {
  readonly id: string;
  readonly type?: string;
  readonly outcome?: string;
  readonly planHash?: string | null;
  readonly verificationMethod?: string | null;
  readonly verificationReference?: string | null;
  readonly receivedAt?: string;
  readonly completedAt?: string;
  readonly totals?: Counts;
  readonly decisions?: Record<string, Counts>;
  readonly applied?: Record<string, Counts>;
  readonly exported?: Record<string, Counts>;
  readonly failedStores?: Array<{ store: string; error: string }>;
  readonly refusals?: Array<{ store: string; reason: string; count: number }>;
  readonly deferrals?: Array<{ store: string; basis: string; due: string; count: number }>;
  readonly verification?: { remaining: number; unexpected: number } | null;
  readonly bundle?: { key: string; sha256: string } | null;
  readonly [field: string]: unknown;
}

export interface DeferralGroup {
  readonly store: string;
  readonly basis: string;
  readonly count: number;
  readonly firstDue: string;
  readonly lastDue: string;
  readonly dates: number;
}

/** One row per store and basis (not per due date): how many, and from when to when. */
export function groupDeferrals(deferrals: ReceiptDoc['deferrals']): DeferralGroup[] {
  const groups = new Map<string, { store: string; basis: string; count: number; firstDue: string; lastDue: string; days: Set<string> }>();
  for (const d of deferrals ?? []) {
    const key = `${d.store}|${d.basis}`;
    const g = groups.get(key) ?? { store: d.store, basis: d.basis, count: 0, firstDue: d.due, lastDue: d.due, days: new Set<string>() };
    g.count += d.count;
    if (d.due < g.firstDue) g.firstDue = d.due;
    if (d.due > g.lastDue) g.lastDue = d.due;
    g.days.add(d.due.slice(0, 10));
    groups.set(key, g);
  }
  return [...groups.values()]
    .map(({ days, ...g }) => ({ ...g, dates: days.size }))
    .sort((a, b) => a.store.localeCompare(b.store) || a.basis.localeCompare(b.basis));
}

const show = (counts: Counts | undefined) =>
  Object.entries(counts ?? {})
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ') || '—';
const day = (iso: string) => iso.slice(0, 10);

/** The summary as lines of text (also the content of the HTML page). */
export function receiptSections(stored: StoredReceipt, changes: readonly StoredReceipt[]): Array<{ title: string; rows: string[][] }> {
  const r = JSON.parse(stored.body) as ReceiptDoc;
  const sections: Array<{ title: string; rows: string[][] }> = [];
  sections.push({
    title: 'Receipt',
    rows: [
      ['request', r.requestId ? String(r.requestId) : r.id],
      ['type', String(r.type ?? '—')],
      ['outcome', String(r.outcome ?? r.change ?? '—')],
      ['sequence', String(stored.sequence)],
      ['sha256', stored.hash],
      ['previous sha256', stored.previousHash],
      ['received', r.receivedAt ?? '—'],
      ['completed', String(r.completedAt ?? r.at ?? '—')],
      ['verification', r.verificationMethod ? `${r.verificationMethod}, reference ${r.verificationReference}` : '—'],
      ['plan', r.planHash ?? '—'],
      ...(r.totals ? [['decisions', decisionLine(r.type, r.totals)]] : []),
      ...(typeof r.reference === 'string' ? [['reference', r.reference]] : []),
      ...(typeof r.actorHash === 'string' ? [['actor (hash; the name is in the ledger)', r.actorHash]] : []),
    ],
  });
  const stores = [...new Set([...Object.keys(r.decisions ?? {}), ...Object.keys(r.applied ?? {}), ...Object.keys(r.exported ?? {})])].sort();
  if (stores.length > 0) {
    const done = r.type === 'access' || r.type === 'portability' ? 'exported' : 'applied';
    sections.push({
      title: 'Per store',
      rows: [['store', 'decided', done], ...stores.map((s) => [s, r.decisions?.[s] ? decisionLine(r.type, r.decisions[s]) : '—', show((done === 'exported' ? r.exported : r.applied)?.[s])])],
    });
  }
  if (Array.isArray(r.purposes)) {
    // A withdrawal or objection: per purpose and place, counts and the keyed hashes of the values before and after.
    sections.push({ title: 'Per purpose', rows: [['purpose', 'basis', 'outcome'], ...purposeLines(r.purposes as Parameters<typeof purposeLines>[0]).map((p) => [p.purpose, p.basis, purposeText(p)])] });
    const places = (r.purposes as Array<{ purpose: string; places: Array<{ store: string; attribute: string; items: number; changed: number; beforeHash: string; afterHash: string }> }>).flatMap((p) => p.places.map((x) => ({ purpose: p.purpose, ...x })));
    if (places.length > 0) {
      sections.push({ title: 'Consent attributes set', rows: [['purpose', 'store', 'attribute', 'items', 'changed', 'before (keyed hash)', 'after (keyed hash)'], ...places.map((x) => [x.purpose, x.store, x.attribute, String(x.items), String(x.changed), x.beforeHash, x.afterHash])] });
    }
  }
  if (r.failedStores?.length) sections.push({ title: 'Failed stores', rows: [['store', 'error'], ...r.failedStores.map((f) => [f.store, f.error])] });
  if (r.refusals?.length) sections.push({ title: 'Refused (kept, and why)', rows: [['store', 'reason', 'records'], ...r.refusals.map((f) => [f.store, f.reason, String(f.count)])] });
  const deferrals = groupDeferrals(r.deferrals);
  if (deferrals.length > 0) {
    sections.push({
      title: 'Deferred (erased when due)',
      rows: [['store', 'basis', 'records', 'due'], ...deferrals.map((d) => [d.store, d.basis, String(d.count), d.firstDue === d.lastDue ? day(d.firstDue) : `${day(d.firstDue)} to ${day(d.lastDue)} (${d.dates} dates)`])],
    });
  }
  if (r.verification) sections.push({ title: 'Checked after erasure', rows: [['remaining', String(r.verification.remaining)], ['unexpected', String(r.verification.unexpected)]] });
  if (r.bundle) sections.push({ title: 'Bundle', rows: [['key', r.bundle.key], ['sha256', r.bundle.sha256]] });
  if (changes.length > 0) {
    sections.push({
      title: 'Changes to the request (approval, rejection, lift)',
      rows: [['receipt', 'change', 'plan', 'when'], ...changes.map((c) => {
        const b = JSON.parse(c.body) as Record<string, unknown>;
        return [`#${c.sequence} ${c.hash.slice(0, 12)}…`, String(b.change ?? b.outcome), typeof b.planHash === 'string' ? `${b.planHash.slice(0, 12)}…` : '—', String(b.at ?? b.completedAt ?? '—')];
      })],
    });
  }
  return sections;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (ch) => ESCAPES[ch]);

export function receiptHtml(stored: StoredReceipt, changes: readonly StoredReceipt[]): string {
  const r = JSON.parse(stored.body) as ReceiptDoc;
  const body = receiptSections(stored, changes)
    .map((s) => `<section><h2>${escapeHtml(s.title)}</h2><table>${s.rows.map((row) => `<tr>${row.map((cell) => `<td>${escapeHtml(cell)}</td>`).join('')}</tr>`).join('')}</table></section>`)
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Receipt #${stored.sequence} — ${escapeHtml(String(r.requestId ?? r.id))}</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:60rem}td{border-bottom:1px solid #ddd;padding:.2rem .6rem;vertical-align:top}code{word-break:break-all}</style></head>
<body><h1>Receipt #${stored.sequence}</h1>
<p>SHA-256 of the stored receipt: <code>${escapeHtml(stored.hash)}</code>; it chains to <code>${escapeHtml(stored.previousHash)}</code>. Check the chain with <code>dsr receipt verify</code>.</p>
${body}
</body></html>
`;
}

/** Receipts of the chain whose body matches, in order (read from the receipt partition alone). */
async function chainOf(c: Clients, match: (body: { kind?: string; id?: string; requestId?: string }) => boolean): Promise<StoredReceipt[]> {
  const found: StoredReceipt[] = [];
  for await (const r of allReceipts(c)) if (match(JSON.parse(r.body) as { kind?: string })) found.push(r);
  return found;
}

async function fromChain(c: Clients, match: Parameters<typeof chainOf>[1]): Promise<StoredReceipt | undefined> {
  return (await chainOf(c, match))[0];
}

export function receiptCommand(printer: Printer, setExit: (code: number) => void): Command {
  const receipt = new Command('receipt')
    .description('print a request\'s receipt (a summary; --json the stored document; --html FILE a page to file), or verify the receipt chain')
    .argument('[requestId]')
    .option('--json', 'print the stored receipt document')
    .option('--html <file>', 'write the receipt as an HTML page, with its hash')
    .option('--data <dir>', 'a local engine\'s directory')
    .action(async (requestId: string | undefined, opts: { json?: boolean; html?: string; data?: string }) => {
      if (!requestId) throw new CliError('give a request id, or use: dsr receipt verify');
      await withClients(opts, async (c) => {
        const record = await readable(() => c.ledger.getRequest(requestId));
        // A receipt of its own id (a rectification's closing receipt) is found without a request.
        const pointed = await receiptForRequest(c, requestId);
        // A role that reads the receipt partition only (auditors) finds it there.
        const stored = pointed ?? (record ? undefined : await fromChain(c, (b) => b.kind === 'request' && b.id === requestId));
        if (!record && !stored) throw new CliError(`no such request ${requestId}`);
        const changes = await changeReceipts(c, requestId);
        const changeDocs = changes.map((ch) => ({ sequence: ch.sequence, sha256: ch.hash, previous: ch.previousHash, receipt: JSON.parse(ch.body) as unknown }));
        // A plan rejected before anything ran: the rejection is the only receipt so far.
        if (!stored && (changes.length === 0 || opts.html)) throw new CliError(`request ${requestId} is ${record!.status}: it has no receipt yet`);
        if (!stored) {
          if (opts.json) return printer.out(JSON.stringify({ receipt: null, changes: changeDocs }, null, 2));
          printer.out(`request ${requestId} is ${record!.status}: no receipt of its own yet; its changes are on record:`);
          for (const ch of changes) printer.out(`  receipt #${ch.sequence} sha256 ${ch.hash}: ${String((JSON.parse(ch.body) as { change?: string }).change)}`);
          return;
        }
        if (opts.json) return printer.out(JSON.stringify({ sequence: stored.sequence, sha256: stored.hash, previous: stored.previousHash, receipt: JSON.parse(stored.body), changes: changeDocs }, null, 2));
        if (opts.html) {
          fs.writeFileSync(opts.html, receiptHtml(stored, changes));
          return printer.out(`wrote ${opts.html}: receipt #${stored.sequence} sha256 ${stored.hash}`);
        }
        for (const section of receiptSections(stored, changes)) {
          printer.out(`${section.title}`);
          const widths = section.rows[0].map((_, i) => Math.max(...section.rows.map((row) => (row[i] ?? '').length)));
          for (const row of section.rows) printer.out(`  ${row.map((cell, i) => (i < row.length - 1 ? cell.padEnd(Math.min(widths[i], 40)) : cell)).join('  ')}`);
        }
      });
    });
  receipt
    .command('verify')
    .description('recompute every receipt\'s hash and link; exit 1 if the chain is broken')
    .option('--data <dir>', 'a local engine\'s directory')
    .action(async (opts: { data?: string }, cmd: Command) =>
      // `--data` after `verify` belongs to verify; before it, to `receipt`: accept either.
      withClients({ data: opts.data ?? (cmd.optsWithGlobals() as { data?: string }).data }, async (c) => {
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

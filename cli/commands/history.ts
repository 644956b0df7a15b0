/**
 * `dsr history <requestId>`: the audit trail as an auditor reads it — every execution of the
 * request (run, plans, applies, lift) and every later change (approval, rejection, lift,
 * rectification, sweeps), in order, with absolute UTC times, what each state concluded in
 * counts and hashes, and the basis of every count that was kept. `--json` prints the events
 * as GetExecutionHistory returns them. Nothing printed names the subject.
 */
import type { ExecutionListItem, HistoryEvent } from '@aws-sdk/client-sfn';
import { Command } from 'commander';
import type { RequestRecord } from '../../functions/core/ledger';
import type { PlanBreakdownRow } from '../../functions/core/plan';
import { allReceipts, type StoredReceipt } from '../../functions/core/receipt';
import { byId, EventTree } from '../event-tree';
import { CliError, type Clients, type Printer } from '../context';
import { decisionLine, executionArn, executionHistory, modeOfExecution, readable, requestExecutions, withClients } from '../executions';

const RESULT_FIELDS = ['request', 'identity', 'consent', 'logScan', 'discovery', 'plan', 'export', 'bundle', 'applied', 'verification', 'deferred', 'receipt', 'sweep', 'results', 'summary'] as const;

/** What the renderer needs besides the events: the request's type, and plan bases by hash. */
export interface RenderContext {
  readonly type?: string;
  readonly mode?: string;
  readonly bases?: (planHash: string) => Record<string, PlanBreakdownRow[]> | undefined;
}

/** One line per top-level state: what it concluded, from the field its ResultPath wrote. */
export function describeState(output: Record<string, unknown> | undefined, previous: Record<string, unknown> | undefined, ctx: RenderContext = {}): string {
  if (!output) return '';
  const changed = RESULT_FIELDS.find((f) => output[f] !== undefined && JSON.stringify(output[f]) !== JSON.stringify(previous?.[f]));
  if (!changed) return '';
  const value = output[changed] as Record<string, unknown> | Array<Record<string, unknown>>;
  if (Array.isArray(value)) {
    return value
      .map((s) => `${s.requestId ? `${s.requestId}/` : ''}${s.store}${s.status === 'failed' ? ` FAILED (${s.error})` : `: ${formatCounts(s.counts as Record<string, number> | undefined)}`}`)
      .join('; ');
  }
  switch (changed) {
    case 'request':
      return `${value.decision}${value.reason ? ` (${value.reason})` : ''}; type ${value.type}, mode ${value.mode}, ${(value.stores as unknown[]).length} stores${value.approvalRequired ? ', approval required' : ''}`;
    case 'identity':
      return `subject ${value.found ? 'found' : 'NOT found'}; identifiers ${formatCounts(value.identifierCounts as Record<string, number>)} in ${value.rounds} rounds; identity sha256 ${String(value.identityHash).slice(0, 12)}…`;
    case 'logScan':
      return Number(value.units) > 0 ? `${value.units} work units of ${value.stores} big log store(s), scanned on a Distributed Map` : 'no big log store to fan out';
    case 'plan':
      if (ctx.mode === 'lift') return `plan ${String(value.planHash).slice(0, 12)}…: unmark the ${sumCounts(value.totals as Record<string, number>)} records the restriction marked`;
      return `plan ${String(value.planHash).slice(0, 12)}…: ${decisionLine(ctx.type, value.totals as Record<string, number>)}`;
    case 'consent':
      // Per purpose: applied (with the items changed) or refused (with the basis that overrides it).
      return (value.purposes as Array<{ purpose: string; outcome: string; basis: string; places: Array<{ changed: number; items: number }> }>)
        .map((p) => (p.outcome === 'refused' ? `${p.purpose} refused (basis ${p.basis})` : `${p.purpose} withdrawn: ${p.places.reduce((n, x) => n + x.changed, 0)} of ${p.places.reduce((n, x) => n + x.items, 0)} items changed`))
        .join('; ');
    case 'verification':
      return `remaining ${value.remaining} (unexpected ${value.unexpected})`;
    case 'deferred':
      return `${value.scheduled} records deferred; next due ${value.nextDue ?? '—'}`;
    case 'receipt':
      return `receipt ${value.receiptKey} sha256 ${String(value.receiptHash).slice(0, 12)}…, outcome ${value.outcome}`;
    case 'sweep':
      return `as of ${value.now}: ${value.count} due (request, store) entries${value.remaining ? `, ${value.remaining} left for the next run` : ''}`;
    case 'summary':
      return `${value.erased} records erased, ${value.receipts} receipts, ${value.failed} failed`;
    case 'bundle':
      return `${value.records} records, ${value.files} files → ${value.bundleKey}`;
    default:
      return JSON.stringify(value);
  }
}

function sumCounts(totals: Record<string, number>): number {
  return Object.entries(totals).filter(([k]) => k !== 'third-party').reduce((a, [, n]) => a + n, 0);
}

function formatCounts(counts: Record<string, number> | undefined): string {
  if (!counts) return '—';
  const parts = Object.entries(counts).filter(([, n]) => n !== 0).map(([k, n]) => `${k} ${n}`);
  return parts.length > 0 ? parts.join(', ') : 'none';
}

/** The decisions that keep records, with the basis of each count (why it stayed). */
export function basisLines(breakdown: Record<string, PlanBreakdownRow[]>): string[] {
  const lines: string[] = [];
  for (const [store, rows] of Object.entries(breakdown)) {
    for (const r of rows) {
      if (r.decision === 'erase' || r.decision === 'anonymize') continue;
      const due = r.firstDue ? `, due ${r.firstDue.slice(0, 10)}${r.lastDue && r.lastDue !== r.firstDue ? ` to ${r.lastDue.slice(0, 10)}` : ''}` : '';
      lines.push(`${store}: ${r.decision} ${r.count}${r.role === 'third-party' ? ' third-party' : ''}, basis ${r.basis}${due}`);
    }
  }
  return lines;
}

const PAD = ' '.repeat(24);
const stamp = (e: HistoryEvent) => new Date(e.timestamp ?? 0).toISOString();

/**
 * The readable timeline of one execution. Whether an event is inside a Map iteration comes
 * from its `previousEventId` chain, so a store's result is never shown under the next state.
 */
export function renderTimeline(events: readonly HistoryEvent[], ctx: RenderContext = {}): string[] {
  const lines: string[] = [];
  const tree = new EventTree();
  let previous: Record<string, unknown> | undefined;
  let mode: string | undefined;
  let retries = 0;
  for (const e of byId(events)) {
    const depth = tree.add(e);
    if (tree.isRetry(e)) retries++;
    if (e.type === 'ExecutionStarted') {
      previous = JSON.parse(e.executionStartedEventDetails?.input ?? '{}') as Record<string, unknown>;
      mode = String(previous.mode);
      lines.push(`  ${stamp(e)}  started  mode ${String(previous.mode)}${previous.planHash ? `, plan ${String(previous.planHash).slice(0, 12)}…` : ''}`);
    } else if (depth === 0 && e.stateExitedEventDetails) {
      const output = e.stateExitedEventDetails.output ? (JSON.parse(e.stateExitedEventDetails.output) as Record<string, unknown>) : undefined;
      // Choices too: the route a request took is part of the record.
      lines.push(`  ${stamp(e)}  ${e.stateExitedEventDetails.name!.padEnd(22)} ${describeState(output, previous, { ...ctx, mode })}`.trimEnd());
      const plan = output?.plan as { planHash?: string } | undefined;
      // A lift's plan unmarks what the restriction marked: nothing is kept on a basis.
      if (mode !== 'lift' && plan?.planHash && plan.planHash !== (previous?.plan as { planHash?: string } | undefined)?.planHash) {
        const breakdown = ctx.bases?.(plan.planHash);
        for (const line of breakdown ? basisLines(breakdown) : []) lines.push(`  ${PAD}   kept: ${line}`);
      }
      previous = output ?? previous;
    } else if (e.type === 'ExecutionSucceeded') lines.push(`  ${stamp(e)}  SUCCEEDED${retries ? ` (after ${retries} retries)` : ''}`);
    else if (e.type === 'ExecutionFailed') lines.push(`  ${stamp(e)}  FAILED   ${e.executionFailedEventDetails?.error}: ${e.executionFailedEventDetails?.cause}`);
    else if (e.type === 'ExecutionAborted') lines.push(`  ${stamp(e)}  ABORTED`);
    else if (e.type === 'ExecutionTimedOut') lines.push(`  ${stamp(e)}  TIMED OUT`);
    else if (e.type === 'TaskFailed' || e.type === 'LambdaFunctionFailed') {
      const d = e.taskFailedEventDetails ?? e.lambdaFunctionFailedEventDetails;
      lines.push(`  ${stamp(e)}  ${''.padEnd(22)} ${depth > 0 ? 'a store\'s task' : 'task'} failed: ${d?.error}`);
    } else if (depth === 0 && e.type === 'FailStateEntered') {
      // A Fail state has no exit event: its entry is where the request ended.
      lines.push(`  ${stamp(e)}  ${e.stateEnteredEventDetails!.name}`);
    }
  }
  return lines;
}

interface Entry {
  readonly at: string;
  readonly lines: string[];
}

/** A receipt as one entry of the trail: who changed what, when, in counts. */
export function receiptEntry(r: StoredReceipt, actor?: string): Entry {
  const b = JSON.parse(r.body) as Record<string, unknown>;
  const at = String(b.at ?? b.completedAt ?? b.sweptAt ?? '');
  const head = `${at}  receipt #${r.sequence} sha256 ${r.hash.slice(0, 12)}…`;
  const by = actor ? ` by ${actor}` : b.actorHash ? ` by (actor ${String(b.actorHash).slice(0, 12)}…, not in the ledger)` : '';
  const plan = typeof b.planHash === 'string' ? `, plan ${b.planHash.slice(0, 12)}…` : '';
  if (b.kind === 'sweep') {
    const stores = Object.entries((b.stores ?? {}) as Record<string, Record<string, number>>).map(([s, counts]) => `${s}: ${formatCounts(counts)}`);
    return { at, lines: [`${head}  sweep ${String(b.sweepId)}: ${stores.join('; ') || 'nothing'}`] };
  }
  if (b.change === 'plan-approved') return { at, lines: [`${head}  plan approved${by}${plan}${b.totals ? `: ${decisionLine(String(b.type), b.totals as Record<string, number>)}` : ''}`] };
  if (b.change === 'plan-rejected') return { at, lines: [`${head}  plan rejected${by}${plan}, reference ${String(b.reference)}`] };
  if (b.change === 'restriction-lifted') {
    const applied = Object.entries((b.applied ?? {}) as Record<string, Record<string, number>>).map(([s, counts]) => `${s}: ${formatCounts(counts)}`);
    return { at, lines: [`${head}  restriction lifted${by}${plan}, outcome ${String(b.outcome)}`, `  ${PAD}   ${applied.join('; ') || 'nothing marked'}`] };
  }
  if (b.change === 'deadline-extended') return { at, lines: [`${head}  deadline extended by ${String(b.days)} days: due ${String(b.dueAt)} (was ${String(b.firstDueAt)}), reason sha256 ${String(b.reasonHash).slice(0, 12)}…`] };
  if (b.change === 'cancelled') {
    const stores = Object.entries((b.stores ?? {}) as Record<string, { state: string } & Record<string, number>>).map(([s, { state, ...counts }]) => `${s}: ${state}${state === 'done' ? ` (${formatCounts(counts)})` : ''}`);
    return { at, lines: [`${head}  cancelled (was ${String(b.statusWhenCancelled)})${plan}, reason sha256 ${String(b.reasonHash).slice(0, 12)}…`, `  ${PAD}   ${stores.join('; ') || 'nothing applied'}`] };
  }
  if (b.change === 'rectified' || b.outcome === 'rectified-by-person') return { at, lines: [`${head}  rectified by a person${by}, reference ${String(b.reference)}`] };
  const totals = b.totals ? `: ${decisionLine(String(b.type), b.totals as Record<string, number>)}` : '';
  // What the stores themselves refused at apply time (Object Lock, a legal hold), and why.
  const refusals = ((b.refusals ?? []) as Array<{ store: string; reason: string; count: number }>).map((x) => `  ${PAD}   refused by the store: ${x.store}: ${x.count}, reason ${x.reason}`);
  return { at, lines: [`${head}  ${String(b.outcome)}${plan}${totals}`, ...refusals] };
}

/** Every receipt that concerns the request (its own, its changes, the sweeps that erased for it). */
async function receiptsOf(c: Clients, requestId: string): Promise<StoredReceipt[]> {
  const found: StoredReceipt[] = [];
  for await (const r of allReceipts(c)) {
    const b = JSON.parse(r.body) as { kind?: string; id?: string; requestId?: string };
    const own = b.kind === 'request' && (b.id === requestId || b.id === `${requestId}--rectified`);
    if (own || ((b.kind === 'change' || b.kind === 'sweep') && b.requestId === requestId)) found.push(r);
  }
  return found;
}

/** Who made the change a receipt records, from the ledger (the receipt holds only a hash). */
async function actorOf(c: Clients, requestId: string, r: StoredReceipt) {
  const b = JSON.parse(r.body) as { kind?: string; id?: string; change?: string };
  const changeId = b.kind === 'change' ? b.id : b.change === 'rectified' ? 'rectified' : undefined;
  return changeId ? readable(() => c.ledger.getActor(requestId, changeId)) : undefined;
}

/** A system-originated erasure (retention enforcement) states its basis where a person's verification would be. */
function systemOrigin(record: RequestRecord | undefined, own: Record<string, unknown> | undefined): string | undefined {
  const basis = (record?.request.retentionBasis ?? own?.retentionBasis) as { category?: string; after?: string; from?: string; basis?: string; runId?: string } | undefined | null;
  if (!basis) return undefined;
  return `  no verification: started by the retention schedule (limit ${basis.category}, at most ${basis.after} from ${basis.from}, basis ${basis.basis}, run ${basis.runId})`;
}

/** The request as the ledger has it, or (for a role that reads receipts only) as its receipt says. */
function requestHeader(requestId: string, record: RequestRecord | undefined, receipts: readonly StoredReceipt[]): string[] {
  const own = receipts.map((r) => JSON.parse(r.body) as Record<string, unknown>).find((b) => b.kind === 'request' && b.id === requestId);
  const v = record?.request.verification ?? (own?.verificationMethod ? { method: String(own.verificationMethod), reference: String(own.verificationReference), verifiedAt: undefined } : undefined);
  const type = record?.request.type ?? (own?.type as string | undefined) ?? 'type not on record';
  const received = record?.request.receivedAt ?? (own?.receivedAt as string | undefined) ?? '—';
  const now = record ? `; now ${record.status}${record.reason ? ` — ${record.reason}` : ''}` : '';
  return [
    `request ${requestId} (${type}), received ${received}${now}`,
    v ? `  verified${v.verifiedAt ? ` ${v.verifiedAt}` : ''} by method ${v.method}, reference ${v.reference}` : systemOrigin(record, own) ?? '  no verification on record',
    '  counts: third-party records are counted under their decision too, and shown apart as "of which … third-party"',
  ];
}

export interface Trail {
  readonly record: RequestRecord | undefined;
  readonly executions: ExecutionListItem[];
  readonly receipts: StoredReceipt[];
  readonly histories: Record<string, HistoryEvent[]>;
  /** Plan summaries (counts and bases) by plan hash, as the ledger's receipt partition keeps them. */
  readonly plans: Map<string, Record<string, PlanBreakdownRow[]> | undefined>;
  readonly header: string[];
  /** Executions and receipts in order, each as the lines an auditor reads. */
  readonly entries: Entry[];
}

/**
 * Everything the trail of a request is made of: its executions and their histories, its
 * receipts, the bases of its plans, and the readable entries (`dsr history` prints them, the
 * console's API serves them). Reads only what the caller's role may (`readable`).
 */
export async function requestTrail(c: Clients, requestId: string, eventsOnly = false): Promise<Trail> {
  const record = await readable(() => c.ledger.getRequest(requestId));
  const executions = await requestExecutions(c, requestId);
  const receipts = await receiptsOf(c, requestId);
  if (!record && executions.length === 0 && receipts.length === 0) throw new CliError(`no such request ${requestId}`);
  const all: Record<string, HistoryEvent[]> = {};
  for (const e of executions) all[e.executionArn!] = await executionHistory(c, e.executionArn!);
  const plans = new Map<string, Record<string, PlanBreakdownRow[]> | undefined>();
  if (eventsOnly) return { record, executions, receipts, histories: all, plans, header: [], entries: [] };
  for (const events of Object.values(all)) {
    for (const e of events) {
      const hash = (JSON.parse(e.stateExitedEventDetails?.output ?? '{}') as { plan?: { planHash?: string } }).plan?.planHash;
      if (hash && !plans.has(hash)) plans.set(hash, (await c.ledger.getPlanSummary(requestId, hash))?.breakdown as Record<string, PlanBreakdownRow[]> | undefined);
    }
  }
  const ctx: RenderContext = { type: record?.request.type ?? (receipts.map((r) => JSON.parse(r.body) as { type?: string }).find((b) => b.type)?.type), bases: (hash) => plans.get(hash) };
  const entries: Entry[] = executions.map((e) => ({
    at: new Date(e.startDate ?? 0).toISOString(),
    lines: [`execution ${e.name}`, `  ${modeOfExecution(requestId, e.name!)} · ${e.status}`, ...renderTimeline(all[e.executionArn!], ctx)],
  }));
  for (const r of receipts) entries.push({ ...receiptEntry(r, (await actorOf(c, requestId, r))?.by), at: placeOf(r, executions, all) });
  return { record, executions, receipts, histories: all, plans, header: requestHeader(requestId, record, receipts), entries: entries.sort((a, b) => a.at.localeCompare(b.at)) };
}

export function historyCommand(printer: Printer): Command {
  return new Command('history')
    .description('the audit trail of a request: every execution and change, UTC times, counts, decisions and their bases')
    .argument('<requestId>')
    .option('--json', 'print the events exactly as GetExecutionHistory returns them')
    .option('--data <dir>', 'a local engine\'s directory')
    .action(async (requestId: string, opts: { json?: boolean; data?: string }) =>
      withClients(opts, async (c) => {
        // Sweeps are named `sweep-…` and run on their own machine.
        if (requestId.startsWith('sweep-') && c.deployment.sweepStateMachineArn) {
          const events = await executionHistory(c, executionArn(c.deployment.sweepStateMachineArn, requestId));
          if (opts.json) return printer.out(JSON.stringify({ events }, null, 2));
          printer.out(`execution ${requestId}`);
          for (const line of renderTimeline(events)) printer.out(line);
          return;
        }
        const trail = await requestTrail(c, requestId, opts.json);
        if (opts.json) {
          const arns = Object.keys(trail.histories);
          return printer.out(JSON.stringify(arns.length === 1 ? { events: trail.histories[arns[0]] } : { executions: trail.histories }, null, 2));
        }
        for (const line of trail.header) printer.out(line);
        for (const entry of trail.entries) {
          printer.out('');
          for (const line of entry.lines) printer.out(line);
        }
      }),
    );
}
/**
 * Where a receipt goes in the trail. The clocks of the machine (whose handlers may run on a
 * moved clock locally) and of the CLI differ, so a receipt an execution wrote goes right after
 * that execution, and an approval right before the apply of its plan; others by their time.
 */
function placeOf(r: StoredReceipt, executions: readonly ExecutionListItem[], all: Record<string, HistoryEvent[]>): string {
  const b = JSON.parse(r.body) as { change?: string; planHash?: string };
  const start = (e: ExecutionListItem) => new Date(e.startDate ?? 0).getTime();
  const writer = executions.find((e) =>
    all[e.executionArn!].some((ev) => ev.stateExitedEventDetails?.name === 'WriteReceipt' && (JSON.parse(ev.stateExitedEventDetails.output ?? '{}') as { receipt?: { receiptKey?: string } }).receipt?.receiptKey === `receipt/${r.sequence}`),
  );
  if (writer) return new Date(start(writer) + 1).toISOString();
  if (b.change === 'plan-approved') {
    const apply = executions.find((e) => (JSON.parse(all[e.executionArn!][0]?.executionStartedEventDetails?.input ?? '{}') as { mode?: string; planHash?: string }).planHash === b.planHash);
    if (apply) return new Date(start(apply) - 1).toISOString();
  }
  return receiptEntry(r).at;
}

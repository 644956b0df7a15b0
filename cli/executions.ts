/**
 * The executions of a request, as every command reaches them: where they are, starting one
 * (or rejoining it), listing them, reading their history, and the summary support reads.
 */
import { queuedStoresOf } from '../functions/core/log-pass-route';
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  StartExecutionCommand,
  type DescribeExecutionCommandOutput,
  type ExecutionListItem,
  type HistoryEvent,
} from '@aws-sdk/client-sfn';
import type { RequestRecord } from '../functions/core/ledger';
import { getReceipt, receiptForRequest } from '../functions/core/receipt';
import { executionName, type ExecutionInput } from '../functions/core/request';
import { isConsentType } from '../functions/core/purposes';
import { isExecutionNameOf } from '../functions/core/validation';
import { ANSWERED, daysLeft } from '../functions/core/deadlines';
import { cliClock } from './deadline-context';
import { CliError, cliPrincipal, clientsFor, deploymentFromEnv, EXIT, loadLocalEnv, type Clients, type Printer } from './context';
import { waitForExecution } from './progress';

export function executionArn(stateMachineArn: string, name: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
}

export function withClients<T>(opts: { data?: string }, fn: (c: Clients) => Promise<T>): Promise<T> {
  if (opts.data) loadLocalEnv(opts.data);
  const clients = clientsFor(deploymentFromEnv());
  return fn(clients).finally(() => clients.close());
}

export async function requireRequest(c: Clients, requestId: string): Promise<RequestRecord> {
  const record = await c.ledger.getRequest(requestId);
  if (!record) throw new CliError(`no such request ${requestId}`);
  return record;
}

/**
 * Starts the execution under the first of `names` that is free, or rejoins the one that ran
 * with this very input. AWS answers ExecutionAlreadyExists for a closed execution even with
 * the same input: the request already ran, and starting it again must not erase twice.
 */
export async function startExecution(c: Clients, input: ExecutionInput, names: readonly string[] = [executionName(input)]): Promise<string> {
  for (const name of names) {
    try {
      const out = await c.sfn.send(new StartExecutionCommand({ stateMachineArn: c.deployment.stateMachineArn, name, input: JSON.stringify(input) }));
      return out.executionArn!;
    } catch (err) {
      if (!(err instanceof ExecutionAlreadyExists)) throw err;
      const arn = executionArn(c.deployment.stateMachineArn, name);
      const existing = await c.sfn.send(new DescribeExecutionCommand({ executionArn: arn }));
      if (existing.input && JSON.stringify(JSON.parse(existing.input)) === JSON.stringify(input)) return arn;
    }
  }
  throw new CliError(`request ${input.requestId} was already started with a different input (${input.mode}); use a new request id`);
}

export async function executionHistory(c: Clients, arn: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const out = await c.sfn.send(new GetExecutionHistoryCommand({ executionArn: arn, nextToken, maxResults: 1000 }));
    events.push(...(out.events ?? []));
    nextToken = out.nextToken;
  } while (nextToken);
  return events;
}

/** The mode an execution of the request ran in, from its name (`undefined`: not this request's). */
export function modeOfExecution(requestId: string, name: string): ExecutionInput['mode'] | undefined {
  for (const mode of ['run', 'plan', 'apply', 'lift', 'resume'] as const) if (isExecutionNameOf(name, { requestId, mode })) return mode;
  return undefined;
}

/** Every execution of a request (run, plans, applies, lift), oldest first. */
export async function requestExecutions(c: Clients, requestId: string): Promise<ExecutionListItem[]> {
  const found: ExecutionListItem[] = [];
  let nextToken: string | undefined;
  do {
    const out = await c.sfn.send(new ListExecutionsCommand({ stateMachineArn: c.deployment.stateMachineArn, nextToken }));
    for (const e of out.executions ?? []) if (e.name && modeOfExecution(requestId, e.name)) found.push(e);
    nextToken = out.nextToken;
  } while (nextToken);
  return found.sort((a, b) => new Date(a.startDate ?? 0).getTime() - new Date(b.startDate ?? 0).getTime());
}

/** Whether the deployment requires approval, as the request's run saw it (`undefined`: not run yet). */
export async function approvalRequiredFor(c: Clients, requestId: string): Promise<boolean | undefined> {
  let events: HistoryEvent[];
  try {
    events = await executionHistory(c, executionArn(c.deployment.stateMachineArn, requestId));
  } catch (err) {
    if ((err as { name?: string }).name === 'ExecutionDoesNotExist') return undefined;
    throw err;
  }
  const validated = events.find((e) => e.stateExitedEventDetails?.name === 'ValidateRequest');
  const output = validated?.stateExitedEventDetails?.output;
  if (!output) return undefined;
  const flag = (JSON.parse(output) as { request?: { approvalRequired?: unknown } }).request?.approvalRequired;
  return typeof flag === 'boolean' ? flag : undefined;
}

/** The receipt the request points at now (its last change), else its first. */
export async function currentReceipt(c: Clients, record: RequestRecord | undefined, requestId: string) {
  const sequence = record?.receiptKey ? Number(record.receiptKey.split('/').pop()) : NaN;
  return Number.isInteger(sequence) ? getReceipt(c, sequence) : receiptForRequest(c, requestId);
}

/** The summary `--json` prints and the exit code it implies. */
export async function summarize(c: Clients, requestId: string, execution: DescribeExecutionCommandOutput) {
  const record = await c.ledger.getRequest(requestId);
  const receipt = await currentReceipt(c, record, requestId);
  const body = receipt ? (JSON.parse(receipt.body) as Record<string, unknown>) : undefined;
  const summary = {
    requestId,
    type: record?.request.type,
    status: record?.status ?? 'unknown',
    execution: { arn: execution.executionArn, status: execution.status, error: execution.error ?? null, cause: execution.cause ?? null },
    reason: record?.reason ?? null,
    planHash: record?.planHash ?? null,
    counts: body ? { totals: body.totals, decisions: body.decisions, applied: body.applied, exported: body.exported, verification: body.verification } : null,
    bundle: body?.bundle ?? null,
    // A withdrawal or objection: per purpose applied or refused (with the basis), in counts.
    purposes: Array.isArray(body?.purposes) ? purposeLines(body.purposes as ConsentReceiptPurpose[]) : null,
    deadline: record?.dueAt
      ? { receivedAt: record.receivedAt ?? record.request.receivedAt, dueAt: record.dueAt, daysLeft: daysLeft(record.dueAt, cliClock(c).now()), extended: record.extension !== undefined, answered: ANSWERED.has(record.status) }
      : null,
    // Log stores the batched pass erases after the request: queued, erased (with the pass), or postponed.
    logErasure: record?.request.type === 'erasure' ? ((await readable(() => queuedStoresOf(c, requestId, { includeDone: true }))) ?? null) : null,
    receipt: receipt ? { sequence: receipt.sequence, hash: receipt.hash, planHash: (body?.planHash as string | null | undefined) ?? null } : null,
    next: nextStep(requestId, record, execution),
  };
  const exitCode =
    execution.status === 'SUCCEEDED' ? EXIT.ok : ['RequestRefused', 'PlanOutdated', 'RequestCancelled'].includes(execution.error ?? '') ? EXIT.refused : EXIT.failed;
  return { summary, exitCode };
}

/** What support does next, when there is something to do. */
function nextStep(requestId: string, record: RequestRecord | undefined, execution: DescribeExecutionCommandOutput): string | null {
  const erasure = record?.request.type === 'erasure';
  if (execution.error === 'PlanOutdated' || record?.reason === 'plan-outdated') {
    // Other stores may be erased already (the account with them): a resume finishes with the
    // identity the request kept, planned under today's holds; a new plan to review needs the account.
    const resume = erasure ? `finish it under today's holds: npx dsr resume ${requestId}; or ` : '';
    return `holds changed after the plan was approved; ${resume}plan again and review: npx dsr plan ${requestId} --replan, then npx dsr approve ${requestId} --plan-hash HASH`;
  }
  if ((erasure || isConsentType(record?.request.type ?? '')) && record?.status === 'failed') return `see what failed: npx dsr history ${requestId}; finish it: npx dsr resume ${requestId}`;
  if (record?.status === 'awaiting-approval') return `review the plan: npx dsr plan ${requestId}; then npx dsr approve ${requestId} --plan-hash HASH (or npx dsr reject ${requestId})`;
  if (record?.status === 'rejected') return `plan again: npx dsr plan ${requestId} --replan`;
  if (record?.status === 'failed') return `see what failed: npx dsr history ${requestId}; plan again: npx dsr plan ${requestId} --replan`;
  return null;
}

export type Summary = Awaited<ReturnType<typeof summarize>>['summary'];

export function printSummary(printer: Printer, summary: Summary, json: boolean | undefined): void {
  if (json) return printer.out(JSON.stringify(summary));
  printer.out(`request ${summary.requestId} (${summary.type}): ${summary.status}${summary.reason ? ` — ${summary.reason}` : ''}`);
  printer.out(`  execution ${summary.execution.status}${summary.execution.error ? ` (${summary.execution.error}: ${summary.execution.cause})` : ''}`);
  if (summary.deadline) {
    const d = summary.deadline;
    const left = d.answered ? 'answered' : d.daysLeft < 0 ? `overdue by ${-d.daysLeft} days` : `${d.daysLeft} days left`;
    printer.out(`  received ${d.receivedAt}, due ${d.dueAt}${d.extended ? ' (extended)' : ''}: ${left}`);
  }
  if (summary.planHash) printer.out(`  plan ${summary.planHash}`);
  for (const p of summary.purposes ?? []) printer.out(`  purpose ${p.purpose}: ${purposeText(p)}`);
  const totals = summary.counts?.totals as Record<string, number> | undefined;
  if (totals) printer.out(`  decisions: ${decisionLine(summary.type, totals)}`);
  if (summary.receipt) {
    const other = summary.receipt.planHash && summary.receipt.planHash !== summary.planHash ? ` (of plan ${summary.receipt.planHash.slice(0, 12)}…)` : '';
    printer.out(`  receipt #${summary.receipt.sequence} sha256 ${summary.receipt.hash}${other}`);
  }
  for (const q of summary.logErasure ?? []) {
    const state = q.status === 'done' ? `erased by pass ${q.passId} at ${q.doneAt}` : `${q.status === 'running' ? `in pass ${q.passId}` : 'queued'}, due by ${q.dueBy}${q.postponed ? ` (postponed ${q.postponed}x: ${q.lastPostponedBecause})` : ''}`;
    printer.out(`  log store ${q.store}: ${state}`);
  }
  if (summary.next) printer.out(`  next: ${summary.next}`);
}

/** A purpose of a withdrawal's or objection's receipt, as the receipt holds it (functions/core/consent.ts). */
interface ConsentReceiptPurpose {
  purpose: string;
  basis: string;
  citation: string | null;
  outcome: 'applied' | 'refused';
  places: Array<{ store: string; attribute: string; items: number; changed: number; unchanged: number; absent: number }>;
}

export type PurposeLine = ReturnType<typeof purposeLines>[number];

/** Per purpose: the outcome, the basis, and the counts summed over its places. */
export function purposeLines(purposes: readonly ConsentReceiptPurpose[]) {
  return purposes.map((p) => {
    const sum = (k: 'items' | 'changed' | 'unchanged' | 'absent') => p.places.reduce((n, x) => n + x[k], 0);
    return { purpose: p.purpose, outcome: p.outcome, basis: p.basis, citation: p.citation, places: p.places.length, items: sum('items'), changed: sum('changed'), unchanged: sum('unchanged'), absent: sum('absent') };
  });
}

export function purposeText(p: PurposeLine): string {
  if (p.outcome === 'refused') return `refused: its basis is ${p.basis}${p.citation ? ` (${p.citation})` : ''}`;
  return `consent withdrawn in ${p.places} place(s): ${p.items} item(s), ${p.changed} changed, ${p.unchanged} already withdrawn, ${p.absent} without the attribute`;
}

/**
 * Decision totals in words. An access or portability request decides nothing about erasure:
 * its records are reported (`found`). Third-party records are also counted under their
 * decision, so they are shown apart, as "of which".
 */
export function decisionLine(type: string | undefined, totals: Record<string, number>): string {
  const { ['third-party']: thirdParty = 0, ...decisions } = totals;
  const all = Object.values(decisions).reduce((a, b) => a + b, 0);
  if (all === 0) return 'nothing found';
  const apart = thirdParty > 0 ? ` (of which ${thirdParty} third-party)` : '';
  if (type === 'access' || type === 'portability') {
    const refused = decisions.refused ?? 0;
    return `${all} records found${refused > 0 ? `, ${refused} withheld (refused)` : ''}${apart}`;
  }
  const parts = Object.entries(decisions).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`);
  return `${parts.join(', ')}${apart}`;
}

/** Waits for the execution, prints its summary, and returns the exit code it implies. */
export async function waitAndReport(c: Clients, requestId: string, arn: string, opts: { timeout: number; json?: boolean }, printer: Printer): Promise<number> {
  const execution = await waitForExecution(c, arn, opts.timeout, printer, !opts.json);
  const { summary, exitCode } = await summarize(c, requestId, execution);
  printSummary(printer, summary, opts.json);
  return exitCode;
}

/**
 * A read of a request's own items (the request, who acted), which hold names and the subject
 * id: auditors read the receipt partition only. Acting as an auditor (`--as auditor`), it is
 * not attempted — a denied call is an alarm in CloudTrail, not a way to ask —, and a denial
 * still reads as `undefined`; the caller then works from receipts and execution histories.
 */
export async function readable<T>(read: () => Promise<T>): Promise<T | undefined> {
  if (cliPrincipal.getStore() === 'auditor') return undefined;
  try {
    return await read();
  } catch (err) {
    if ((err as { name?: string }).name === 'AccessDeniedException') return undefined;
    throw err;
  }
}

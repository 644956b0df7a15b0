/**
 * `dsr history <requestId>`: the execution history as an auditor reads it — each state, when,
 * and what it decided, in counts and hashes. `--json` prints the events as
 * GetExecutionHistory returns them.
 */
import { GetExecutionHistoryCommand, ListExecutionsCommand, type HistoryEvent } from '@aws-sdk/client-sfn';
import { Command } from 'commander';
import { executionName } from '../../functions/core/request';
import type { Clients, Printer } from '../context';
import { executionArn, withClients } from './request';

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

export async function lastStateName(c: Clients, arn: string): Promise<string | undefined> {
  const out = await c.sfn.send(new GetExecutionHistoryCommand({ executionArn: arn, reverseOrder: true, maxResults: 20 }));
  return out.events?.find((e) => e.stateEnteredEventDetails)?.stateEnteredEventDetails?.name;
}

/** Executions that belong to a request: the run, and its dry-run and approved-apply executions. */
async function requestExecutions(c: Clients, requestId: string): Promise<string[]> {
  // Sweeps are named `sweep-…` and run on their own machine.
  if (requestId.startsWith('sweep-') && c.deployment.sweepStateMachineArn) return [executionArn(c.deployment.sweepStateMachineArn, requestId)];
  const names = new Set([requestId, executionName({ requestId, mode: 'plan' }), executionName({ requestId, mode: 'apply' })]);
  const arns: string[] = [];
  let nextToken: string | undefined;
  do {
    const out = await c.sfn.send(new ListExecutionsCommand({ stateMachineArn: c.deployment.stateMachineArn, nextToken }));
    for (const e of out.executions ?? []) if (e.name && names.has(e.name)) arns.push(e.executionArn!);
    nextToken = out.nextToken;
  } while (nextToken);
  return arns.length > 0 ? arns.reverse() : [executionArn(c.deployment.stateMachineArn, requestId)];
}

const RESULT_FIELDS = ['request', 'identity', 'discovery', 'plan', 'export', 'bundle', 'applied', 'verification', 'deferred', 'receipt', 'sweep', 'results', 'summary'] as const;

/** One line per top-level state: what it concluded, from the field its ResultPath wrote. */
export function describeState(name: string, output: Record<string, unknown> | undefined, previous: Record<string, unknown> | undefined): string {
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
      return `${value.decision}${value.reason ? ` (${value.reason})` : ''}; type ${value.type}, mode ${value.mode}, ${(value.stores as unknown[]).length} stores`;
    case 'identity':
      return `subject ${value.found ? 'found' : 'NOT found'}; identifiers ${formatCounts(value.identifierCounts as Record<string, number>)} in ${value.rounds} rounds; identity sha256 ${String(value.identityHash).slice(0, 12)}…`;
    case 'plan':
      return `plan ${String(value.planHash).slice(0, 12)}…: ${formatCounts(value.totals as Record<string, number>)}`;
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

function formatCounts(counts: Record<string, number> | undefined): string {
  if (!counts) return '—';
  const parts = Object.entries(counts).filter(([, n]) => n !== 0).map(([k, n]) => `${k} ${n}`);
  return parts.length > 0 ? parts.join(', ') : 'none';
}

export function renderTimeline(events: readonly HistoryEvent[]): string[] {
  const lines: string[] = [];
  const t0 = events[0]?.timestamp ? new Date(events[0].timestamp).getTime() : 0;
  let depth = 0;
  let previous: Record<string, unknown> | undefined;
  const at = (e: HistoryEvent) => `+${((new Date(e.timestamp ?? 0).getTime() - t0) / 1000).toFixed(3)}s`.padStart(9);
  for (const e of events) {
    if (e.type === 'ExecutionStarted') {
      previous = JSON.parse(e.executionStartedEventDetails?.input ?? '{}') as Record<string, unknown>;
      lines.push(`${at(e)}  started  request ${String(previous.requestId)} (mode ${String(previous.mode)})`);
    } else if (e.type === 'MapIterationStarted') depth++;
    else if (e.type === 'MapIterationSucceeded' || e.type === 'MapIterationFailed' || e.type === 'MapIterationAborted') depth--;
    else if (depth === 0 && e.stateExitedEventDetails) {
      const output = e.stateExitedEventDetails.output ? (JSON.parse(e.stateExitedEventDetails.output) as Record<string, unknown>) : undefined;
      lines.push(`${at(e)}  ${e.stateExitedEventDetails.name!.padEnd(22)} ${describeState(e.stateExitedEventDetails.name!, output, previous)}`.trimEnd());
      previous = output ?? previous;
    } else if (e.type === 'ExecutionSucceeded') lines.push(`${at(e)}  SUCCEEDED`);
    else if (e.type === 'ExecutionFailed') lines.push(`${at(e)}  FAILED   ${e.executionFailedEventDetails?.error}: ${e.executionFailedEventDetails?.cause}`);
    else if (e.type === 'ExecutionAborted') lines.push(`${at(e)}  ABORTED`);
    else if (e.type === 'TaskFailed' || e.type === 'LambdaFunctionFailed') {
      const d = e.taskFailedEventDetails ?? e.lambdaFunctionFailedEventDetails;
      lines.push(`${at(e)}  ${''.padEnd(22)} task failed: ${d?.error}`);
    } else if (depth === 0 && e.type?.endsWith('StateEntered') && /^Refused|RequestFailed|AwaitingApproval|PlanStored/.test(e.stateEnteredEventDetails?.name ?? '')) {
      lines.push(`${at(e)}  ${e.stateEnteredEventDetails!.name}`);
    }
  }
  return lines;
}

export function historyCommand(printer: Printer): Command {
  return new Command('history')
    .description('the audit trail of a request: states, times, counts, decisions')
    .argument('<requestId>')
    .option('--json', 'print the events exactly as GetExecutionHistory returns them')
    .option('--data <dir>', 'a local engine\'s directory')
    .action(async (requestId: string, opts: { json?: boolean; data?: string }) =>
      withClients(opts, async (c) => {
        const arns = await requestExecutions(c, requestId);
        const all: Record<string, HistoryEvent[]> = {};
        for (const arn of arns) all[arn] = await executionHistory(c, arn);
        if (opts.json) return printer.out(JSON.stringify(arns.length === 1 ? { events: all[arns[0]] } : { executions: all }, null, 2));
        for (const arn of arns) {
          printer.out(`execution ${arn.split(':').pop()}`);
          for (const line of renderTimeline(all[arn])) printer.out(line);
        }
      }),
    );
}

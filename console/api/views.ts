/**
 * What the console shows of one request, read through the same modules as `dsr status|history|
 * receipt` (the ledger's request item where the role may read it, else the receipt and the
 * executions), and the sweep runs; the list is console/api/list.ts. No subject id, name or
 * identifier is put in a view: the request item's `subjectId` is never copied out, and everything else comes from
 * execution histories and receipts, which carry ids, counts, decisions and hashes only.
 */
import { DescribeExecutionCommand, ListExecutionsCommand, type ExecutionListItem, type HistoryEvent } from '@aws-sdk/client-sfn';
import type { RequestRecord } from '../../functions/core/ledger';
import { allReceipts, checkChain, type StoredReceipt } from '../../functions/core/receipt';
import type { Clients } from '../../cli/context';
import { executionHistory, modeOfExecution } from '../../cli/executions';
import { requestTrail } from '../../cli/commands/history';
import { groupDeferrals, receiptSections } from '../../cli/commands/receipt';
import { RunProgress } from '../../cli/progress';
import { sweepRunResult } from '../../cli/operations/holds';

async function listAll(c: Clients, stateMachineArn: string): Promise<ExecutionListItem[]> {
  const found: ExecutionListItem[] = [];
  let nextToken: string | undefined;
  do {
    const out = await c.sfn.send(new ListExecutionsCommand({ stateMachineArn, nextToken }));
    found.push(...(out.executions ?? []));
    nextToken = out.nextToken;
  } while (nextToken);
  return found;
}

/** The statutory deadline, when the ledger has one (another part of the product sets `dueAt`). */
function deadline(record: RequestRecord | undefined, now: Date): { dueAt: string | null; daysLeft: number | null } {
  const dueAt = (record as { dueAt?: unknown } | undefined)?.dueAt;
  if (typeof dueAt !== 'string') return { dueAt: null, daysLeft: null };
  return { dueAt, daysLeft: Math.ceil((new Date(dueAt).getTime() - now.getTime()) / 86_400_000) };
}

const receiptBody = (r: StoredReceipt | undefined) => (r ? (JSON.parse(r.body) as Record<string, unknown>) : undefined);

/**
 * Each request's own receipt (its latest, by request id), read off the chain in one query of
 * the receipt partition: both roles may read it, and no lookup falls back to a request item.
 */
async function ownReceipts(c: Clients): Promise<{ all: StoredReceipt[]; byRequest: Map<string, StoredReceipt> }> {
  const all: StoredReceipt[] = [];
  const byRequest = new Map<string, StoredReceipt>();
  for await (const r of allReceipts(c)) {
    all.push(r);
    const b = receiptBody(r);
    if (b?.kind === 'request' && typeof b.id === 'string') byRequest.set(b.id, r);
  }
  return { all, byRequest };
}

/** One request as the detail page shows it: where it is, its trail, its plan's bases, its receipt and the chain. */
export async function requestDetail(c: Clients, requestId: string, now = new Date()) {
  const trail = await requestTrail(c, requestId);
  const { record } = trail;
  const { all: receipts, byRequest } = await ownReceipts(c);
  const own = byRequest.get(requestId);
  const body = receiptBody(own);
  const changes = trail.receipts.filter((r) => receiptBody(r)?.kind === 'change');
  const running = trail.executions.filter((e) => e.status === 'RUNNING').at(-1);
  let progress: string | null = null;
  if (running) {
    const p = new RunProgress();
    p.add(await executionHistory(c, running.executionArn!));
    progress = p.describe();
  }
  const chain = checkChain(receipts);
  // Cancelled at rest, the request's last word is a `cancelled` change receipt, not a request receipt.
  const cancelledSeq = Math.max(-1, ...changes.filter((r) => receiptBody(r)?.change === 'cancelled').map((r) => r.sequence));
  const cancelled = cancelledSeq > (own?.sequence ?? -1);
  const latest = trail.executions.at(-1);
  // Without the request item, the plan is the last one the executions' histories name.
  const planHash = record?.planHash ?? (typeof body?.planHash === 'string' ? body.planHash : ([...trail.plans.keys()].at(-1) ?? null));
  const plan = planHash ? await c.ledger.getPlanSummary(requestId, planHash) : undefined;
  return {
    requestId,
    type: record?.request.type ?? (typeof body?.type === 'string' ? body.type : null),
    // Without the request item (auditors): the receipt's outcome, else the last execution's status.
    status: record?.status ?? (running ? 'running' : cancelled ? 'cancelled' : typeof body?.outcome === 'string' ? body.outcome : endState(latest ? trail.histories[latest.executionArn!] : undefined, latest?.status)),
    reason: record?.reason ?? null,
    receivedAt: record?.request.receivedAt ?? (typeof body?.receivedAt === 'string' ? body.receivedAt : null),
    ...deadline(record, now),
    verification: record?.request.verification ? { method: record.request.verification.method, reference: record.request.verification.reference, verifiedAt: record.request.verification.verifiedAt } : null,
    running: Boolean(running),
    progress,
    awaitingApproval: record?.status === 'awaiting-approval',
    plan: plan ? { planHash, totals: plan.totals ?? {}, counts: plan.counts ?? {}, breakdown: plan.breakdown ?? {} } : null,
    executions: trail.executions.map((e) => ({ name: e.name, mode: modeOfExecution(requestId, e.name ?? ''), status: e.status, startedAt: e.startDate ? new Date(e.startDate).toISOString() : null })),
    header: trail.header,
    timeline: trail.entries,
    receipt: own
      ? {
          sequence: own.sequence,
          hash: own.hash,
          previousHash: own.previousHash,
          sections: receiptSections(own, changes),
          decisions: body?.decisions ?? null,
          refusals: body?.refusals ?? [],
          deferrals: groupDeferrals(body?.deferrals as Parameters<typeof groupDeferrals>[0]),
        }
      : null,
    // The bundle's hash and size from the receipt, for both roles; support asks for a link apart (GET …/bundle).
    bundle: bundleView(body?.bundle),
    changes: changes.map((r) => ({ sequence: r.sequence, hash: r.hash, change: receiptBody(r)?.change ?? null, planHash: receiptBody(r)?.planHash ?? null, at: receiptBody(r)?.at ?? null })),
    chain: { ok: chain.ok, count: chain.count, problems: chain.ok ? [] : chain.problems, includesReceipt: own ? receipts.some((r) => r.sequence === own.sequence && r.hash === own.hash) : null },
  };
}

function bundleView(bundle: unknown): { sha256: string; bytes: number | null } | null {
  const b = bundle as { sha256?: unknown; bytes?: unknown } | null | undefined;
  return typeof b?.sha256 === 'string' ? { sha256: b.sha256, bytes: typeof b.bytes === 'number' ? b.bytes : null } : null;
}

/**
 * Where an execution left the request, read from its history when no receipt says it: the
 * last state it entered (`AwaitingApproval` → `awaiting-approval`), else its own status.
 */
function endState(events: readonly HistoryEvent[] | undefined, status: string | undefined): string {
  const last = [...(events ?? [])].reverse().find((e) => e.stateEnteredEventDetails?.name)?.stateEnteredEventDetails?.name;
  if (status === 'SUCCEEDED' && last === 'AwaitingApproval') return 'awaiting-approval';
  return (status ?? 'unknown').toLowerCase();
}

/** The retention sweep's runs, newest first, with what each did (counts only). */
export async function listSweeps(c: Clients, limit = 20) {
  const arn = c.deployment.sweepStateMachineArn;
  if (!arn) return [];
  const runs = (await listAll(c, arn)).sort((a, b) => new Date(b.startDate ?? 0).getTime() - new Date(a.startDate ?? 0).getTime()).slice(0, limit);
  const out = [];
  for (const e of runs) {
    const described = await c.sfn.send(new DescribeExecutionCommand({ executionArn: e.executionArn }));
    out.push({ ...sweepRunResult(e.name!, described), startedAt: e.startDate ? new Date(e.startDate).toISOString() : null });
  }
  return out;
}

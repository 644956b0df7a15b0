/**
 * Reviewing an erasure's plan, approving exactly that plan (by its hash) or rejecting it: one
 * implementation for `dsr plan|approve|reject` and the console's API. Every approval and
 * rejection is a receipt in the chain; who acted stays in the ledger, the receipt has a hash.
 */
import { InvalidInputError } from '../../functions/core/errors';
import type { RequestRecord } from '../../functions/core/ledger';
import type { PlanBreakdownRow } from '../../functions/core/plan';
import { actorHash, appendReceipt, type StoredReceipt } from '../../functions/core/receipt';
import { executionName } from '../../functions/core/request';
import { attemptExecutionName } from '../../functions/core/validation';
import { CliError, type Clients } from '../context';
import { approvalRequiredFor, requireRequest, startExecution } from '../executions';
import { FieldError } from './start';

export interface StoredPlanView {
  readonly planHash: string;
  readonly createdAt: string | null;
  readonly awaitingApproval: boolean;
  readonly totals: Record<string, number>;
  readonly stores: Array<{ store: string; counts: Record<string, number>; rows: PlanBreakdownRow[] | null }>;
}

/** The plan the ledger keeps for the request: counts per store and decision, and their bases. */
export async function storedPlan(c: Clients, record: RequestRecord, planHash: string): Promise<StoredPlanView | undefined> {
  const item = await c.ledger.getPlanSummary(record.request.requestId, planHash);
  if (!item) return undefined;
  const counts = (item.counts ?? {}) as Record<string, Record<string, number>>;
  const breakdown = (item.breakdown ?? {}) as Record<string, PlanBreakdownRow[]>;
  return {
    planHash,
    createdAt: (item.createdAt as string | undefined) ?? null,
    awaitingApproval: record.status === 'awaiting-approval' && record.planHash === planHash,
    totals: (item.totals ?? {}) as Record<string, number>,
    stores: Object.keys(counts).sort().map((store) => ({ store, counts: counts[store], rows: breakdown[store] ?? null })),
  };
}

/** Accepts the full hash or a prefix of at least 8 of its digits (what `dsr plan` shows). */
export function matchHash(given: string | undefined, stored: string | undefined, field = '--plan-hash'): string | undefined {
  if (given === undefined) return stored;
  if (!/^[0-9a-f]{8,64}$/.test(given)) throw new FieldError(field, `${field}: give the plan's hash (8 to 64 hex digits) as \`dsr plan\` shows it`);
  if (stored?.startsWith(given)) return stored;
  if (given.length === 64) return given;
  throw new FieldError(field, `no plan ${given}… awaiting approval; the plan to review is ${stored ? `${stored.slice(0, 12)}…` : 'not made yet'}`);
}

/** Why a request has no plan to approve or reject, in the words support needs. */
async function notAwaiting(c: Clients, record: RequestRecord, requestId: string): Promise<CliError> {
  if (record.request.type !== 'erasure') return new CliError(`request ${requestId} is a${record.request.type === 'access' ? 'n' : ''} ${record.request.type} request: only an erasure waits for approval`);
  if ((await approvalRequiredFor(c, requestId)) === false) return new CliError('approval is not required in this deployment: erasures apply their plan without it');
  const replan = record.status === 'rejected' || record.status === 'failed' ? `; plan again: npx dsr plan ${requestId} --replan` : '';
  return new CliError(`request ${requestId} is ${record.status}, with no plan awaiting approval${replan}`);
}

export interface Approved {
  readonly planHash: string;
  readonly executionArn: string;
  readonly receipt: StoredReceipt;
}

/** Approves the plan (the one awaiting approval, or the hash given) and starts its apply execution. */
export async function approvePlan(c: Clients, requestId: string, opts: { approvedBy: string; planHash?: string; hashField?: string }): Promise<Approved> {
  const record = await requireRequest(c, requestId);
  const planHash = matchHash(opts.planHash, record.planHash, opts.hashField);
  // Approving again what is approved (a retry after a lost answer) carries on from there.
  const again = record.status === 'approved' && record.approval?.planHash === planHash && record.approval?.approvedBy === opts.approvedBy;
  if (!again && record.status !== 'awaiting-approval') throw await notAwaiting(c, record, requestId);
  if (!planHash) throw new CliError(`request ${requestId} has no stored plan to approve`);
  const now = new Date();
  if (!again) {
    try {
      await c.ledger.approve(requestId, planHash, opts.approvedBy, now);
      await c.ledger.putActor(requestId, `approved-${planHash}`, opts.approvedBy, now);
    } catch (err) {
      if (err instanceof InvalidInputError) throw new CliError(`${err.message}; the plan awaiting approval is ${record.planHash?.slice(0, 12)}… (npx dsr plan ${requestId})`);
      throw err;
    }
  }
  const totals = (await c.ledger.getPlanSummary(requestId, planHash))?.totals ?? null;
  const receipt = await appendReceipt(c, {
    receiptVersion: 1,
    kind: 'change',
    id: `approved-${planHash}`,
    requestId,
    type: record.request.type,
    change: 'plan-approved',
    actorHash: actorHash(requestId, `approved-${planHash}`, opts.approvedBy),
    planHash,
    totals,
    at: record.approval?.approvedAt ?? now.toISOString(),
  });
  const input = { requestId, requestHash: record.requestHash, mode: 'apply' as const, planHash };
  // Each approved plan applies under a name of its own, so a new plan after an outdated one can run.
  const executionArn = await startExecution(c, input, [executionName(input), attemptExecutionName(input, planHash.slice(0, 8))]);
  return { planHash, executionArn, receipt };
}

/** Rejects the plan awaiting approval: nothing is applied; the request is `rejected`. */
export async function rejectPlan(c: Clients, requestId: string, opts: { rejectedBy: string; reference: string; planHash?: string; hashField?: string }): Promise<{ planHash: string; receipt: StoredReceipt }> {
  const record = await requireRequest(c, requestId);
  if (record.status !== 'awaiting-approval') throw await notAwaiting(c, record, requestId);
  const planHash = matchHash(opts.planHash, record.planHash, opts.hashField)!;
  const now = new Date();
  try {
    await c.ledger.reject(requestId, planHash, now);
    await c.ledger.putActor(requestId, `rejected-${planHash}`, opts.rejectedBy, now);
  } catch (err) {
    if (err instanceof InvalidInputError) throw new CliError(err.message);
    throw err;
  }
  const receipt = await appendReceipt(c, {
    receiptVersion: 1,
    kind: 'change',
    id: `rejected-${planHash}`,
    requestId,
    type: record.request.type,
    change: 'plan-rejected',
    actorHash: actorHash(requestId, `rejected-${planHash}`, opts.rejectedBy),
    reference: opts.reference,
    planHash,
    at: now.toISOString(),
  });
  await c.ledger.setStatus(requestId, 'rejected', now, { receiptKey: `receipt/${receipt.sequence}` });
  return { planHash, receipt };
}

/**
 * Cancelling a request: one implementation for `dsr cancel` and the console's API. Running, it
 * is cooperative (functions/core/cancel.ts explains why not StopExecution): the flag is set,
 * the execution stops at its next unit of work and writes the `cancelled` receipt itself. At
 * rest (awaiting approval, rejected, planned, failed), no execution runs: this ends it and
 * writes the receipt.
 */
import type { ExecutionListItem } from '@aws-sdk/client-sfn';
import { CANCELLED, cancelAtRest, cancelledReceipt, CancelRefusedError, requestCancel } from '../../functions/core/cancel';
import { ANSWERED } from '../../functions/core/deadlines';
import type { RequestRecord } from '../../functions/core/ledger';
import { CliError, EXIT, type Clients } from '../context';
import { cliClock } from '../deadline-context';
import { currentReceipt, requestExecutions, requireRequest } from '../executions';
import { FieldError } from './start';

export interface CancelStarted {
  /** `already-cancelled`, `cancelled` (at rest, done here) or `cancel-requested` (an execution runs and stops by itself). */
  readonly outcome: 'already-cancelled' | 'cancelled' | 'cancel-requested';
  /** The executions that run and will stop (for `cancel-requested`). */
  readonly running: readonly ExecutionListItem[];
}

/** Sets the cancel flag, and ends a request at rest; refusals are CliErrors (EXIT.refused). */
export async function cancelRequest(c: Clients, requestId: string, reason: string, reasonField = '--reason'): Promise<CancelStarted> {
  if (reason.trim() === '') throw new FieldError(reasonField, `${reasonField}: say why the request is cancelled`);
  const record = await requireRequest(c, requestId);
  if (record.status === 'cancelled') return { outcome: 'already-cancelled', running: [] };
  if (ANSWERED.has(record.status)) throw new CliError(`cancel refused: request ${requestId} is ${record.status}; an answered request cannot be cancelled`, EXIT.refused);
  const now = cliClock(c).now();
  let flag;
  try {
    flag = await requestCancel(c, record, reason, now);
  } catch (err) {
    if (err instanceof CancelRefusedError) throw new CliError(`cancel refused: ${err.message}`, EXIT.refused);
    throw err;
  }
  const running = (await requestExecutions(c, requestId)).filter((e) => e.status === 'RUNNING');
  if (running.length > 0) return { outcome: 'cancel-requested', running };
  await cancelResting(c, { ...record, cancelRequested: flag }, now);
  return { outcome: 'cancelled', running: [] };
}

/** No execution runs: end the request here; an execution ending meanwhile may have done it already. */
async function cancelResting(c: Clients, record: RequestRecord, now: Date): Promise<void> {
  try {
    await cancelAtRest(c, record, now);
  } catch (err) {
    if (!(err instanceof CancelRefusedError)) throw err;
    if ((await requireRequest(c, record.request.requestId)).status !== 'cancelled') throw new CliError(`cancel refused: ${err.message}`, EXIT.refused);
    return;
  }
  // Nothing applied by a request at rest: no store is in the receipt; a failed run's own receipt says what it did.
  const receipt = await cancelledReceipt(c, record, [], now);
  await c.ledger.setStatus(record.request.requestId, 'cancelled', now, { receiptKey: `receipt/${receipt.sequence}`, reason: CANCELLED });
}

/** Where a cancelled (or cancelling) request stands: its status, its receipt and what each store did (counts). */
export async function cancelReport(c: Clients, requestId: string) {
  const record = await requireRequest(c, requestId);
  const receipt = await currentReceipt(c, record, requestId);
  const body = receipt ? (JSON.parse(receipt.body) as Record<string, unknown>) : undefined;
  return {
    requestId,
    status: record.status,
    receipt: receipt ? { sequence: receipt.sequence, hash: receipt.hash } : null,
    stores: (body?.stores ?? null) as Record<string, { state: string } & Record<string, unknown>> | null,
  };
}

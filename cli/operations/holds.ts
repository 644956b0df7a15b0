/**
 * Placing and releasing legal holds, and starting a sweep run: one implementation for
 * `dsr hold` / `dsr sweep` and the console's API. A subject hold is placed only on a subject
 * some store knows (resolved with support's read-only identity grants).
 */
import { StartExecutionCommand, type DescribeExecutionCommandOutput } from '@aws-sdk/client-sfn';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { connectorFor } from '../../functions/connectors';
import { createAnonymizer } from '../../functions/core/anonymize';
import { loadConfig, type DsrConfig } from '../../functions/core/config';
import { HoldError, placeHold, releaseHold, type HoldRecord } from '../../functions/core/hold-ledger';
import { resolveIdentity } from '../../functions/core/identity';
import { HOLD_KINDS, type HoldKind } from '../../functions/core/retention';
import { CliError, EXIT, type Clients } from '../context';
import { FieldError } from './start';
import { subjectHasQueuedLogErasure } from '../../functions/core/log-queue';

export function deploymentConfig(c: Clients): DsrConfig {
  const file = process.env.DSR_CONFIG_FILE ?? (c.deployment.localDir ? path.join(c.deployment.localDir, 'config.json') : undefined);
  if (!file || !fs.existsSync(file)) throw new CliError('the data map is needed to check a hold: set DSR_CONFIG_FILE or use a local engine (--data DIR)', EXIT.environment);
  return loadConfig(file);
}

export interface HoldFields {
  readonly subject?: string;
  readonly store?: string;
  readonly kind: string;
  readonly reference: string;
  readonly placedBy: string;
  readonly endsAt?: string;
}

/** Checks the hold against the data map (and the subject against the stores), then places it. */
export async function placeCheckedHold(c: Clients, opts: HoldFields, names: Record<'subject' | 'store' | 'kind', string>): Promise<HoldRecord> {
  if (Boolean(opts.subject) === Boolean(opts.store)) throw new FieldError(names.subject, `give exactly one of ${names.subject} or ${names.store}`);
  if (!(HOLD_KINDS as readonly string[]).includes(opts.kind)) throw new FieldError(names.kind, `${names.kind}: unknown kind "${opts.kind}"; use one of ${HOLD_KINDS.join(', ')}`);
  const config = deploymentConfig(c);
  if (opts.store && !config.dataMap.stores.some((s) => s.name === opts.store)) {
    throw new FieldError(names.store, `${names.store}: no store "${opts.store}" in the data map (stores: ${config.dataMap.stores.map((s) => s.name).join(', ')})`);
  }
  if (opts.subject) {
    const ctx = { dynamodb: c.dynamodb, s3: c.s3, now: new Date(), anonymizer: createAnonymizer('x'.repeat(32)), log: () => undefined };
    const resolved = await resolveIdentity(config.dataMap, opts.subject, connectorFor, ctx);
    // An erased subject whose big log stores wait for the batched pass is still known: a hold now keeps those records.
    if (!resolved.found && !(await subjectHasQueuedLogErasure(c, opts.subject))) throw new FieldError(names.subject, `${names.subject}: no store knows this subject; no hold placed`);
  }
  const holdId = `hold-${randomBytes(6).toString('hex')}`;
  return placeHold(
    c,
    { scope: opts.subject ? 'subject' : 'store', subjectId: opts.subject, store: opts.store, kind: opts.kind as HoldKind, reference: opts.reference, placedBy: opts.placedBy, endsAt: opts.endsAt },
    new Date(),
    holdId,
  );
}

export async function releaseHoldAs(c: Clients, holdId: string, releasedBy: string): Promise<void> {
  try {
    await releaseHold(c, holdId, releasedBy, new Date());
  } catch (err) {
    if (err instanceof HoldError) throw new CliError(err.message);
    throw err;
  }
}

/** Starts one run of the retention sweep (named `sweep-<time>-<random>`), as of `now` if given. */
export async function startSweepRun(c: Clients, now?: string): Promise<{ sweepId: string; executionArn: string }> {
  const arn = c.deployment.sweepStateMachineArn;
  if (!arn) throw new CliError('no sweep state machine configured (DSR_SWEEP_STATE_MACHINE_ARN)', EXIT.environment);
  const sweepId = `sweep-${new Date().toISOString().replace(/[^0-9]/g, '').slice(0, 14)}-${randomBytes(3).toString('hex')}`;
  const started = await c.sfn.send(new StartExecutionCommand({ stateMachineArn: arn, name: sweepId, input: JSON.stringify({ sweepId, ...(now ? { now } : {}) }) }));
  return { sweepId, executionArn: started.executionArn! };
}

/** What a finished sweep run did, from its output (counts only). */
export function sweepRunResult(sweepId: string, execution: DescribeExecutionCommandOutput) {
  const output = execution.output
    ? (JSON.parse(execution.output) as { sweep?: { count: number; now: string; remaining?: number }; summary?: { receipts: number; erased: number; failed: number } })
    : {};
  return { sweepId, status: execution.status, now: output.sweep?.now ?? null, due: output.sweep?.count ?? 0, remaining: output.sweep?.remaining ?? 0, receipts: 0, erased: 0, failed: 0, ...output.summary };
}

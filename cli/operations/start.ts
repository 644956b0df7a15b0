/**
 * Recording a request and starting its execution: one implementation for `dsr start` and the
 * console's API, so both refuse the same input with the same words and rejoin the same run.
 * Each caller names its fields its own way (`--subject` for the CLI, `subjectId` for the API):
 * an error names the field, never the value (a subject id is personal).
 */
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../functions/core/config';
import { InvalidInputError } from '../../functions/core/errors';
import { checkPurposes, isConsentType } from '../../functions/core/purposes';
import type { RequestRecord } from '../../functions/core/ledger';
import { createRequest, RequestIdSchema, sameRequest, type ExecutionInput, type NewSubjectRequest } from '../../functions/core/request';
import { CliError, type Clients } from '../context';
import { cliClock, cliDeadlineSettings } from '../deadline-context';
import { requestDeadline } from '../../functions/core/deadlines';
import { startExecution } from '../executions';

/** An input refused because of one field, named as the caller calls it. */
export class FieldError extends CliError {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'FieldError';
  }
}

export interface StartFields {
  readonly type: string;
  readonly subject: string;
  readonly requestId: string;
  readonly verifiedBy?: string;
  readonly verificationMethod?: string;
  readonly verificationRef?: string;
  readonly verifiedAt?: string;
  readonly receivedAt?: string;
  readonly jurisdiction?: string;
  /** A withdrawal's or objection's purposes, comma-separated (`marketing,analytics`) or a list. */
  readonly purposes?: string | readonly string[];
}

export type FieldNames = Record<keyof StartFields, string>;

/** Newlines, tabs and other control characters: never part of an id, often a paste accident. */
const CONTROL_CHARACTER = /[\p{Cc}\u2028\u2029]/u;

/** The checks `createRequest`'s schema cannot word for a person: control characters, a partial verification, the id. */
export function newRequest(opts: StartFields, names: FieldNames): NewSubjectRequest {
  const text = ['subject', 'verifiedBy', 'verificationMethod', 'verificationRef'] as const;
  for (const key of text) {
    const value = opts[key];
    if (value !== undefined && CONTROL_CHARACTER.test(value)) throw new FieldError(names[key], `${names[key]}: contains a control character (a newline, tab or similar); give the value on one line`);
  }
  const given = [opts.verifiedBy, opts.verificationMethod, opts.verificationRef].filter((v) => v !== undefined).length;
  if (given > 0 && given < 3) {
    const missing = (['verifiedBy', 'verificationMethod', 'verificationRef'] as const).find((k) => opts[k] === undefined)!;
    throw new FieldError(names[missing], `a verification needs all of ${names.verifiedBy}, ${names.verificationMethod} and ${names.verificationRef}`);
  }
  const id = RequestIdSchema.safeParse(opts.requestId);
  if (!id.success) throw new FieldError(names.requestId, `${names.requestId}: ${id.error.issues[0]?.message}`);
  const purposes = typeof opts.purposes === 'string' ? opts.purposes.split(',').map((p) => p.trim()) : opts.purposes;
  if (isConsentType(opts.type) && (!purposes || purposes.length === 0 || purposes.some((p) => p === ''))) {
    throw new FieldError(names.purposes, `${names.purposes}: ${opts.type === 'objection' ? 'an' : 'a'} ${opts.type} request names the purposes it is about, e.g. ${names.purposes} marketing,analytics`);
  }
  if (!isConsentType(opts.type) && purposes !== undefined) throw new FieldError(names.purposes, `${names.purposes}: only withdraw-consent and objection requests name purposes`);
  return {
    ...(purposes !== undefined ? { purposes: [...purposes] } : {}),
    requestId: opts.requestId,
    subjectId: opts.subject,
    type: opts.type as NewSubjectRequest['type'],
    ...(opts.receivedAt !== undefined ? { receivedAt: opts.receivedAt } : {}),
    ...(opts.jurisdiction !== undefined ? { jurisdiction: opts.jurisdiction } : {}),
    verification:
      given === 3
        ? { method: opts.verificationMethod!, verifiedBy: opts.verifiedBy!, reference: opts.verificationRef!, verifiedAt: opts.verifiedAt ?? new Date().toISOString() }
        : undefined,
  };
}

/**
 * Purposes the deployment's data map does not declare are refused before anything is stored
 * (where the CLI can read the map; ValidateRequest refuses them again in any case).
 */
function checkPurposesKnown(c: Clients, purposes: readonly string[], names: Partial<Pick<FieldNames, 'purposes'>>): void {
  const file = process.env.DSR_CONFIG_FILE ?? (c.deployment.localDir ? path.join(c.deployment.localDir, 'config.json') : undefined);
  if (!file || !fs.existsSync(file)) return;
  try {
    checkPurposes(purposes, loadConfig(file).dataMap.purposes);
  } catch (err) {
    if (err instanceof InvalidInputError) throw new FieldError(names.purposes ?? '--purposes', `${names.purposes ?? '--purposes'}: ${err.message}`);
    throw err;
  }
}

/** Stores the request (or finds the identical one) and starts — or rejoins — its execution. */
export async function startRequest(
  c: Clients,
  input: NewSubjectRequest,
  mode: ExecutionInput['mode'],
  verifiedAtDefaulted: boolean,
  names: Pick<FieldNames, 'receivedAt'> & Partial<Pick<FieldNames, 'purposes'>> = { receivedAt: '--received-at', purposes: '--purposes' },
): Promise<{ record: RequestRecord; executionArn: string }> {
  let request;
  let deadline;
  // The engine's clock on a local engine: a deadline counts in the time the handlers see.
  const now = cliClock(c).now();
  try {
    request = createRequest(input, now);
    if (request.purposes) checkPurposesKnown(c, request.purposes, names);
    if (new Date(request.receivedAt).getTime() > now.getTime()) throw new FieldError(names.receivedAt, `${names.receivedAt}: ${request.receivedAt} is in the future (now is ${now.toISOString()})`);
    deadline = requestDeadline(request, cliDeadlineSettings(c));
  } catch (err) {
    if (err instanceof InvalidInputError) throw new CliError(err.message);
    throw err;
  }
  const record = await c.ledger.putRequest(request, now, (existing) => sameRequest(existing, input, { verifiedAtDefaulted }), deadline);
  const started = await startExecution(c, { requestId: record.request.requestId, requestHash: record.requestHash, mode });
  return { record, executionArn: started };
}

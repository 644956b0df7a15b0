/**
 * A data-subject request as support records it. The subject id and verification details are
 * personal data: they are stored in the ledger table only, and the state machine receives the
 * request id and a hash.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { formatPath } from './datamap';
import { JurisdictionSchema } from './deadline-settings';
import { InvalidInputError } from './errors';
import { hashOf } from './hash';
import { isConsentType, PurposeListSchema } from './purposes';

/**
 * `rectification` is recorded and routed to a person (correcting data needs judgement): the
 * machine checks its verification, writes its receipt and ends in RoutedToPerson;
 * `dsr rectification done` records that the person finished.
 */
/**
 * `withdraw-consent` and `objection` name purposes (`purposes`) rather than stores: the machine
 * sets the consent attributes the data map names for each, or refuses a purpose whose basis
 * overrides the request (functions/core/consent.ts).
 */
export const REQUEST_TYPES = ['access', 'portability', 'erasure', 'restriction', 'rectification', 'withdraw-consent', 'objection'] as const;
export const RequestTypeSchema = z.enum(REQUEST_TYPES);
export type RequestType = z.infer<typeof RequestTypeSchema>;
/** The types the machine discovers and plans for (a rectification goes to a person instead; consent types set attributes). */
export type PlannedRequestType = Exclude<RequestType, 'rectification' | 'withdraw-consent' | 'objection'>;

export function isPlannedType(type: RequestType): type is PlannedRequestType {
  return type !== 'rectification' && !isConsentType(type);
}

/** Step Functions execution names allow 1-80 of these; the request id is the execution name. */
export const RequestIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, "-" or "_" (it becomes the execution name)');

export const VerificationSchema = z
  .object({
    method: z.string().min(1).max(64),
    verifiedBy: z.string().min(1).max(128),
    verifiedAt: z.iso.datetime({ offset: true }),
    reference: z.string().min(1).max(256),
  })
  .strict();
export type Verification = z.infer<typeof VerificationSchema>;

/**
 * Why the retention-enforcement machine asked for an erasure nobody requested: which limit of
 * the schedule, counted from which subject date, due when, found by which enforcement run. It
 * stands in the place of a person's verification, and is checked as strictly (validation.ts).
 */
export const RetentionBasisSchema = z
  .object({
    category: z.string().min(1).max(64),
    basis: z.string().min(1).max(64),
    from: z.string().min(1).max(64),
    /** The limit, e.g. `2y`, `6m`. */
    after: z.string().regex(/^[0-9]+y[0-9]+m[0-9]+d$/),
    anchorAt: z.iso.datetime({ offset: true }),
    dueAt: z.iso.datetime({ offset: true }),
    runId: z.string().regex(/^[A-Za-z0-9_-]{1,80}$/),
  })
  .strict();
export type RetentionBasis = z.infer<typeof RetentionBasisSchema>;

export const SubjectRequestSchema = z
  .object({
    requestId: RequestIdSchema,
    subjectId: z.string().min(1).max(512),
    type: RequestTypeSchema,
    /** Absent verification is accepted here and refused by the state machine, so the refusal is on record. */
    verification: VerificationSchema.optional(),
    receivedAt: z.iso.datetime({ offset: true }),
    /** Whose law sets the response period (absent: the deployment's default jurisdiction). */
    jurisdiction: JurisdictionSchema.optional(),
    /** Random, so the hash in the execution input cannot be reversed by guessing subject ids. */
    nonce: z.string().regex(/^[0-9a-f]{32}$/),
    /** Absent: the subject asked (and a verification is required). `retention-schedule`: the retention-enforcement machine did, with `retentionBasis`. Listed by `dsr requests` (absent as `subject`). */
    origin: z.enum(['retention-schedule']).optional(),
    retentionBasis: RetentionBasisSchema.optional(),
    /** Only these stores of the data map (a limit of one category); absent: every store. */
    stores: z.array(z.string().regex(/^[a-z][a-z0-9-]{0,62}$/)).min(1).max(100).optional(),
    /** What a `withdraw-consent` or `objection` is about: purposes the data map declares (checked against it by the caller and by ValidateRequest). */
    purposes: PurposeListSchema.optional(),
  })
  .strict()
  .superRefine((r, ctx) => {
    if (isConsentType(r.type) && !r.purposes) ctx.addIssue({ code: 'custom', path: ['purposes'], message: `${r.type === 'objection' ? 'an' : 'a'} ${r.type} request names the purposes it is about` });
    if (!isConsentType(r.type) && r.purposes) ctx.addIssue({ code: 'custom', path: ['purposes'], message: `only withdraw-consent and objection requests name purposes, not ${r.type}` });
  });
export type SubjectRequest = z.infer<typeof SubjectRequestSchema>;

export type NewSubjectRequest = Omit<SubjectRequest, 'nonce' | 'receivedAt'> & { receivedAt?: string };

export function createRequest(input: NewSubjectRequest, now: Date): SubjectRequest {
  return parseRequest({ ...input, receivedAt: input.receivedAt ?? now.toISOString(), nonce: randomBytes(16).toString('hex') });
}

export function parseRequest(input: unknown): SubjectRequest {
  const result = SubjectRequestSchema.safeParse(input);
  if (!result.success) {
    // Paths and messages only: the rejected values may be personal.
    const lines = result.error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`);
    throw new InvalidInputError(`invalid request: ${lines.join('; ')}`);
  }
  return result.data;
}

/** The hash that travels in the execution input in place of the request itself. */
export function requestHash(request: SubjectRequest): string {
  return hashOf(request);
}

/**
 * Same request as far as the person who sent it is concerned (ignores nonce and receipt time).
 * A verification time the caller did not give (defaulted to "now") takes no part: retrying
 * the identical command a minute later is the same request.
 */
export function sameRequest(a: SubjectRequest, b: NewSubjectRequest, opts: { verifiedAtDefaulted?: boolean } = {}): boolean {
  const comparable = (r: NewSubjectRequest) => ({
    ...r,
    nonce: undefined,
    receivedAt: undefined,
    verification: r.verification && opts.verifiedAtDefaulted ? { ...r.verification, verifiedAt: undefined } : r.verification,
  });
  return hashOf(comparable(a)) === hashOf(comparable(b));
}

export const EXECUTION_MODES = ['run', 'plan', 'apply', 'lift', 'resume'] as const;

/** What the state machine is started with: no personal value. */
export const ExecutionInputSchema = z
  .object({
    requestId: RequestIdSchema,
    requestHash: z.string().regex(/^[0-9a-f]{64}$/),
    /**
     * `resume`: finish a failed erasure under the same request id (functions/core/resume.ts
     * explains how); its executions are `<requestId>--resume-<n>`.
     */
    mode: z.enum(EXECUTION_MODES),
    planHash: z.string().regex(/^[0-9a-f]{64}$/).optional(),
  })
  .strict();
export type ExecutionInput = z.infer<typeof ExecutionInputSchema>;

/** The execution name of a mode; a resume needs its attempt (1, 2, …: a request may be resumed again). */
export function executionName(input: Pick<ExecutionInput, 'requestId' | 'mode'>, attempt?: number): string {
  if (input.mode === 'resume') return `${input.requestId}--resume-${attempt ?? 1}`;
  return input.mode === 'run' ? input.requestId : `${input.requestId}--${input.mode}`;
}

/** Whether an execution name is the one a request's mode runs under (any attempt of a resume). */
export function isExecutionNameOf(name: string, input: Pick<ExecutionInput, 'requestId' | 'mode'>): boolean {
  if (input.mode === 'resume') {
    return name.startsWith(`${input.requestId}--resume-`) && /^[1-9][0-9]{0,3}$/.test(name.slice(`${input.requestId}--resume-`.length));
  }
  const base = executionName(input);
  if (name === base) return true;
  // A new plan (`dsr plan --replan`) and the apply of another approved plan: `<name>-<suffix>`.
  if (input.mode !== 'plan' && input.mode !== 'apply') return false;
  return name.startsWith(`${base}-`) && /^[0-9a-z]{1,8}$/.test(name.slice(base.length + 1));
}

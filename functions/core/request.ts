/**
 * A data-subject request as support records it. The subject id and verification details are
 * personal data: they are stored in the ledger table only, and the state machine receives the
 * request id and a hash.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { formatPath } from './datamap';
import { InvalidInputError } from './errors';
import { hashOf } from './hash';

/**
 * `rectification` is recorded and routed to a person (correcting data needs judgement): the
 * machine checks its verification, writes its receipt and ends in RoutedToPerson;
 * `dsr rectification done` records that the person finished.
 */
export const REQUEST_TYPES = ['access', 'portability', 'erasure', 'restriction', 'rectification'] as const;
export const RequestTypeSchema = z.enum(REQUEST_TYPES);
export type RequestType = z.infer<typeof RequestTypeSchema>;
/** The types the machine discovers and plans for (a rectification goes to a person instead). */
export type PlannedRequestType = Exclude<RequestType, 'rectification'>;

export function isPlannedType(type: RequestType): type is PlannedRequestType {
  return type !== 'rectification';
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

export const SubjectRequestSchema = z
  .object({
    requestId: RequestIdSchema,
    subjectId: z.string().min(1).max(512),
    type: RequestTypeSchema,
    /** Absent verification is accepted here and refused by the state machine, so the refusal is on record. */
    verification: VerificationSchema.optional(),
    receivedAt: z.iso.datetime({ offset: true }),
    /** Random, so the hash in the execution input cannot be reversed by guessing subject ids. */
    nonce: z.string().regex(/^[0-9a-f]{32}$/),
  })
  .strict();
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

/** Same request as far as the person who sent it is concerned (ignores nonce and receipt time). */
export function sameRequest(a: SubjectRequest, b: NewSubjectRequest): boolean {
  return hashOf({ ...a, nonce: undefined, receivedAt: undefined }) === hashOf({ ...b, nonce: undefined, receivedAt: undefined });
}

/** What the state machine is started with: no personal value. */
export const ExecutionInputSchema = z
  .object({
    requestId: RequestIdSchema,
    requestHash: z.string().regex(/^[0-9a-f]{64}$/),
    mode: z.enum(['run', 'plan', 'apply', 'lift']),
    planHash: z.string().regex(/^[0-9a-f]{64}$/).optional(),
  })
  .strict();
export type ExecutionInput = z.infer<typeof ExecutionInputSchema>;

export function executionName(input: Pick<ExecutionInput, 'requestId' | 'mode'>): string {
  return input.mode === 'run' ? input.requestId : `${input.requestId}--${input.mode}`;
}

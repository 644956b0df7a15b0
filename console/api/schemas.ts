/**
 * The bodies the console API accepts, built from the very schemas the ledger and `dsr start`
 * use (functions/core/request.ts, retention.ts), so a value the CLI refuses is refused here
 * with the field's name.
 */
import { z } from 'zod';
import { RequestIdSchema, RequestTypeSchema, SubjectRequestSchema, VerificationSchema } from '../../functions/core/request';
import { HOLD_KINDS } from '../../functions/core/retention';
import { REQUEST_ORIGINS } from '../../functions/core/deadlines';
import { REQUEST_STATUSES } from '../../functions/core/ledger';

export const StartBodySchema = z
  .object({
    requestId: RequestIdSchema,
    type: RequestTypeSchema,
    subjectId: SubjectRequestSchema.shape.subjectId,
    /** withdraw-consent and objection: the purposes (checked against the data map). */
    purposes: SubjectRequestSchema.shape.purposes,
    receivedAt: SubjectRequestSchema.shape.receivedAt.optional(),
    jurisdiction: SubjectRequestSchema.shape.jurisdiction,
    // verifiedAt defaults to now, as `dsr start` without --verified-at.
    verification: VerificationSchema.partial({ verifiedAt: true }).optional(),
  })
  .strict();
export type StartBody = z.infer<typeof StartBodySchema>;

const PlanHash = z.string().regex(/^[0-9a-f]{64}$/, 'must be the full plan hash (64 hex digits) of the plan you reviewed');

export const ApproveBodySchema = z.object({ planHash: PlanHash }).strict();
export const RejectBodySchema = z.object({ planHash: PlanHash, reference: z.string().min(1).max(256) }).strict();

const day = z.string().regex(/^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2}))?$/, 'must be a date (2027-01-31 or an ISO 8601 time)');

export const HoldBodySchema = z
  .object({
    scope: z.enum(['subject', 'store']),
    subjectId: SubjectRequestSchema.shape.subjectId.optional(),
    store: z.string().min(1).max(128).optional(),
    kind: z.enum(HOLD_KINDS),
    reference: z.string().min(1).max(256),
    endsAt: day.optional(),
  })
  .strict()
  .superRefine((b, ctx) => {
    if (b.scope === 'subject' && !b.subjectId) ctx.addIssue({ code: 'custom', path: ['subjectId'], message: 'a subject hold needs the subject id' });
    if (b.scope === 'store' && !b.store) ctx.addIssue({ code: 'custom', path: ['store'], message: 'a store hold needs the store' });
  });

export const SweepBodySchema = z.object({ now: day.optional() }).strict();

export const ListQuerySchema = z
  .object({
    status: z.enum(REQUEST_STATUSES).optional(),
    type: RequestTypeSchema.optional(),
    origin: z.enum(REQUEST_ORIGINS).optional(),
    // `overdue`: open requests past their deadline; `within`: open requests due in the next `days` days.
    due: z.enum(['overdue', 'within']).optional(),
    days: z.coerce.number().int().min(1).max(366).optional(),
    limit: z.coerce.number().int().min(1).max(200).optional(),
    next: z.string().max(512).optional(),
  })
  .strict()
  .superRefine((q, ctx) => {
    if (q.due === 'within' && q.days === undefined) ctx.addIssue({ code: 'custom', path: ['days'], message: 'due=within needs days (1-366)' });
  });
export type ListQuery = z.infer<typeof ListQuerySchema>;

export const CancelBodySchema = z.object({ reason: z.string().min(1).max(1024) }).strict();

export const ReportQuerySchema = z.object({ now: day.optional() }).strict();

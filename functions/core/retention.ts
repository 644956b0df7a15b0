/**
 * The retention schedule and the per-record decision. What may be erased is a legal question:
 * each decision carries its basis, so the receipt and the auditor can see why a record stayed.
 */
import { z } from 'zod';
import { CategorySchema, formatPath, type Category, type Store } from './datamap';
import { ConfigError } from './errors';
import type { Finding } from '../connectors/types';

export const HOLD_KINDS = ['court-order', 'law-enforcement', 'litigation', 'debt-recovery', 'investigation'] as const;
export type HoldKind = (typeof HOLD_KINDS)[number];

const DurationSchema = z
  .object({
    years: z.number().int().nonnegative().optional(),
    months: z.number().int().nonnegative().optional(),
    days: z.number().int().nonnegative().optional(),
  })
  .strict()
  .refine((d) => (d.years ?? 0) + (d.months ?? 0) + (d.days ?? 0) > 0, 'a duration must be longer than zero');
export type Duration = z.infer<typeof DurationSchema>;

export const RetentionRuleSchema = z
  .object({
    category: CategorySchema,
    /** How long records must be kept after their anchor date; absent = erase on request. */
    keep: DurationSchema.optional(),
    /** Why they are kept (or `none`): recorded with every decision. */
    basis: z.string().min(1).max(64),
    /** Where the rule comes from (a statute, a policy section). */
    source: z.string().max(300).optional(),
  })
  .strict();
export type RetentionRule = z.infer<typeof RetentionRuleSchema>;

export const RetentionScheduleSchema = z
  .object({
    rules: z.array(RetentionRuleSchema),
    /** Per-store overrides, by store name. */
    stores: z.record(z.string(), RetentionRuleSchema.omit({ category: true })).default({}),
  })
  .strict();
export type RetentionSchedule = z.infer<typeof RetentionScheduleSchema>;

/** The default schedule, taken from the seed policies (see the README's table). */
export const DEFAULT_SCHEDULE: RetentionSchedule = {
  rules: [
    { category: 'billing', keep: { years: 7 }, basis: 'tax', source: 'Billing data: 7 years (Canadian tax requirement)' },
    { category: 'call-metadata', keep: { months: 12 }, basis: 'telecom-regulator', source: 'Call metadata: 12 months (CRTC compliance)' },
    { category: 'call-recording', basis: 'none', source: 'Call recordings: until you delete them, at most 6 months after termination' },
    { category: 'voicemail', basis: 'none', source: 'Voicemail: the subject\'s own content, erased on request' },
    { category: 'fax', basis: 'none', source: 'Fax: the subject\'s own content, erased on request' },
    { category: 'account', basis: 'none', source: 'Account information: up to 2 years after deactivation, unless flagged for investigation' },
    { category: 'payment-method', basis: 'none', source: 'Payment tokens are not billing records: erased on request' },
    { category: 'contacts', basis: 'none', source: 'Contact lists: the subject\'s own content' },
    { category: 'devices', basis: 'none', source: 'Device and IP data: account information' },
    { category: 'logs', basis: 'none', source: 'Operational logs: no retention obligation' },
  ],
  stores: {},
};

export function parseSchedule(input: unknown): RetentionSchedule {
  const result = RetentionScheduleSchema.safeParse(input);
  if (!result.success) {
    throw new ConfigError(`invalid retention schedule:\n${result.error.issues.map((i) => `  - ${formatPath(i.path)}: ${i.message}`).join('\n')}`);
  }
  return result.data;
}

export type DecisionKind = 'erase' | 'anonymize' | 'retain-until' | 'restrict' | 'refused';
export const DECISIONS: readonly DecisionKind[] = ['erase', 'anonymize', 'retain-until', 'restrict', 'refused'];

export interface Decision {
  readonly decision: DecisionKind;
  /** The legal or technical reason: `tax`, `telecom-regulator`, `object-legal-hold`, a hold kind, `subject-request`, `none`. */
  readonly basis: string;
  /** For `retain-until` (and time-limited refusals): the day erasure becomes due. */
  readonly until?: string;
}

/** A hold in force for this subject or store at decision time. */
export interface ActiveHold {
  /** `pending-request`: an access or portability request not answered yet (functions/core/pending-requests.ts). */
  readonly kind: HoldKind | 'pending-request';
  readonly holdId: string;
  readonly endsAt?: string;
  /** The decision's basis when it is not the kind: `hold-flags-unreadable`, a hold not ruled out. */
  readonly basis?: string;
}

export interface DecisionInput {
  readonly finding: Finding;
  readonly store: Store;
  readonly requestType: 'access' | 'portability' | 'erasure' | 'restriction';
  readonly now: Date;
  readonly schedule: RetentionSchedule;
  readonly holds: readonly ActiveHold[];
}

export function ruleFor(schedule: RetentionSchedule, store: Store): Omit<RetentionRule, 'category'> & { category: Category } {
  const override = schedule.stores[store.name];
  if (override) return { category: store.category, ...override };
  return schedule.rules.find((r) => r.category === store.category) ?? { category: store.category, basis: 'none' };
}

export function addDuration(date: Date, d: Duration): Date {
  const out = new Date(date);
  out.setUTCFullYear(out.getUTCFullYear() + (d.years ?? 0));
  out.setUTCMonth(out.getUTCMonth() + (d.months ?? 0));
  out.setUTCDate(out.getUTCDate() + (d.days ?? 0));
  return out;
}

export function decide(input: DecisionInput): Decision {
  const { finding, store, now } = input;
  if (input.requestType === 'restriction') return { decision: 'restrict', basis: 'subject-request' };

  // Object Lock first: S3 refuses these regardless of what the law or the operator wants.
  const protection = finding.protection;
  if (protection?.legalHold) return { decision: 'refused', basis: 'object-legal-hold' };
  if (protection?.retention && new Date(protection.retention.retainUntil) > now) {
    return { decision: 'refused', basis: `object-lock-${protection.retention.mode.toLowerCase()}`, until: protection.retention.retainUntil };
  }

  const hold = input.holds[0];
  if (hold) return { decision: 'refused', basis: hold.basis ?? hold.kind, ...(hold.endsAt ? { until: hold.endsAt } : {}) };

  const rule = ruleFor(input.schedule, store);
  if (rule.keep) {
    const anchor = finding.date ? new Date(finding.date) : undefined;
    // A record with no usable date cannot be shown to be past its period: keep it out of use.
    if (!anchor || Number.isNaN(anchor.getTime())) return { decision: 'restrict', basis: `${rule.basis}:no-date` };
    const until = addDuration(anchor, rule.keep);
    if (until > now) return { decision: 'retain-until', basis: rule.basis, until: until.toISOString() };
  }
  if (store.kind === 'dynamodb' && store.erase.mode === 'anonymize') return { decision: 'anonymize', basis: rule.basis };
  if (store.kind === 'dynamodb' && store.erase.mode === 'restrict') return { decision: 'restrict', basis: 'operator-policy' };
  if (store.kind === 's3-objects' && store.erase.mode === 'restrict') return { decision: 'restrict', basis: 'operator-policy' };
  return { decision: 'erase', basis: rule.basis };
}

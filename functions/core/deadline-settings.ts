/**
 * How long the operator has to answer a request: PIPEDA s.8(3) and Quebec's Private Sector Act
 * s.32 both say 30 days, extendable once by at most 30 (PIPEDA s.8(4)). A setting per
 * jurisdiction, so an operator serving another regime names its own period.
 */
import { z } from 'zod';

/** `CA`, `CA-QC`: an ISO 3166 country, optionally with its subdivision. */
export const JurisdictionSchema = z.string().regex(/^[A-Z]{2}(-[A-Z0-9]{1,3})?$/, 'must be an ISO 3166 code such as CA or CA-QC');

export const DeadlineSettingsSchema = z
  .object({
    /** The jurisdiction of a request that names none. */
    defaultJurisdiction: JurisdictionSchema.default('CA'),
    /** Days to answer, per jurisdiction; a subdivision without an entry uses its country's. */
    responseDays: z.record(JurisdictionSchema, z.number().int().min(1).max(365)).default({ CA: 30, 'CA-QC': 30 }),
    /** The longest one extension may be (PIPEDA s.8(4): a further 30 days at most). */
    maxExtensionDays: z.number().int().min(1).max(365).default(30),
    /** `dsr requests --due-within` default and the alarm's window: requests due within this many days. */
    nearingDays: z.number().int().min(1).max(60).default(7),
  })
  .strict();
export type DeadlineSettings = z.infer<typeof DeadlineSettingsSchema>;

/** The deadline settings of a deployment: its own, or the defaults (30 days, CA). */
export function deadlineSettings(settings: { readonly deadlines?: DeadlineSettings }): DeadlineSettings {
  return settings.deadlines ?? DeadlineSettingsSchema.parse({});
}

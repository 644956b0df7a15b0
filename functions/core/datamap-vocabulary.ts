/**
 * The data map's shared vocabulary: the identifier types identity resolution follows, the data
 * categories retention rules are written per, how a field is anonymized, and how identifiers
 * are written. Stores, purposes and the retention schedule all speak it; datamap.ts re-exports it.
 */
import { z } from 'zod';
import { NANP_COUNTRIES } from './phone-numbers';

/** The kinds of identifier identity resolution knows how to follow. */
export const IDENTIFIER_TYPES = ['subjectId', 'accountId', 'phone', 'email', 'sipUsername', 'deviceId', 'ip'] as const;
export const IdentifierTypeSchema = z.enum(IDENTIFIER_TYPES);
export type IdentifierType = z.infer<typeof IdentifierTypeSchema>;

/**
 * Data categories. Retention rules are written per category (see retention), so a store's
 * category decides what the law lets the operator keep.
 */
export const CATEGORIES = [
  'account',
  'billing',
  'payment-method',
  'call-metadata',
  'call-recording',
  'voicemail',
  'fax',
  'contacts',
  'devices',
  'logs',
  'consent',
] as const;
export const CategorySchema = z.enum(CATEGORIES);
export type Category = z.infer<typeof CategorySchema>;

/** How one field is made non-personal. */
export const AnonymizationSchema = z.union([
  z.object({ strategy: z.literal('null') }).strict(),
  z.object({ strategy: z.literal('redact'), token: z.string().min(1).default('[REDACTED]') }).strict(),
  // Keyed and deterministic within a deployment, so joins across stores still work.
  z.object({ strategy: z.literal('hmac') }).strict(),
  z.object({ strategy: z.literal('generalize-date'), to: z.enum(['month', 'year']) }).strict(),
]);
export type Anonymization = z.infer<typeof AnonymizationSchema>;

/**
 * How identifiers are written, for normalization (see identifiers.ts): the country of phone
 * numbers written without a country code (`(514) 555-0101`). Absent, such numbers match only
 * as written; the built-in normalizer knows the North American Numbering Plan.
 */
export const IdentifierSettingsSchema = z
  .object({
    phone: z
      .object({
        defaultCountry: z
          .enum(NANP_COUNTRIES, { error: `must be a North American Numbering Plan country (${NANP_COUNTRIES.join(', ')}): the built-in phone normalizer reads national numbers of that plan only` })
          .optional(),
      })
      .strict()
      .optional(),
  })
  .strict();
export type IdentifierSettingsInput = z.infer<typeof IdentifierSettingsSchema>;

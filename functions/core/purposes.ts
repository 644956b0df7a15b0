/**
 * Purposes of processing, as the data map declares them: each one's legal basis and, for the
 * purposes based on consent, where that consent is recorded (attributes of the subject's own
 * items in a DynamoDB store: the account record, or a consent table with one item per subject
 * and purpose). `withdraw-consent` and `objection` requests name purposes; core/consent.ts
 * applies them.
 */
import { z } from 'zod';
import type { Store } from './datamap';
import { InvalidInputError } from './errors';

/**
 * `consent`: the subject may withdraw it, and an objection ends the processing too. Every other
 * basis overrides a withdrawal or an objection (the law or the contract requires the
 * processing, or it detects fraud): the request is refused for that purpose, with the basis.
 */
export const LEGAL_BASES = ['consent', 'contract', 'legal-obligation', 'fraud-prevention'] as const;
export type LegalBasis = (typeof LEGAL_BASES)[number];

export const PURPOSE_NAME = /^[a-z][a-z0-9-]{0,62}$/;
/** A top-level attribute or a dotted path into maps (`consent.marketing`): letters, digits, `_`, `-`, `:`. */
const ATTRIBUTE_PATH = /^[A-Za-z0-9_:-]{1,255}(\.[A-Za-z0-9_:-]{1,255}){0,7}$/;

export const ConsentLocationSchema = z
  .object({
    /** A dynamodb store of the data map whose partition key is looked up by an owner identifier. */
    store: z.string().regex(PURPOSE_NAME, 'must name a store of the data map'),
    attribute: z.string().regex(ATTRIBUTE_PATH, 'must be an attribute name or a dotted path into maps, e.g. "consent.marketing"'),
    /** The value the attribute takes once consent is withdrawn. */
    withdrawn: z.union([z.boolean(), z.string().min(1).max(64)]).default(false),
    /** A consent table: only the subject's items whose attribute `attribute` equals `equals` (the purpose's item). */
    where: z.object({ attribute: z.string().regex(ATTRIBUTE_PATH), equals: z.string().min(1).max(255) }).strict().optional(),
  })
  .strict();
export type ConsentLocation = z.infer<typeof ConsentLocationSchema>;

export const PurposeSchema = z
  .object({
    description: z.string().max(500).optional(),
    basis: z.enum(LEGAL_BASES, { error: `must be one of ${LEGAL_BASES.join(', ')}` }),
    /** Where the basis comes from (a statute, the service agreement): required for a basis other than consent. */
    citation: z.string().min(1).max(500).optional(),
    consentAt: z.array(ConsentLocationSchema).max(20).default([]),
  })
  .strict()
  .superRefine((p, ctx) => {
    if (p.basis === 'consent' && p.consentAt.length === 0) ctx.addIssue({ code: 'custom', path: ['consentAt'], message: 'a purpose based on consent needs at least one place its consent is recorded' });
    if (p.basis !== 'consent' && !p.citation) ctx.addIssue({ code: 'custom', path: ['citation'], message: `a purpose based on ${p.basis} needs the citation of that basis` });
  });
export type Purpose = z.infer<typeof PurposeSchema>;

export const PurposeListSchema = z.array(z.string().regex(PURPOSE_NAME, 'must be lowercase letters, digits and dashes')).min(1).max(20);

/** The request types that name purposes instead of stores. */
export const CONSENT_REQUEST_TYPES = ['withdraw-consent', 'objection'] as const;
export type ConsentRequestType = (typeof CONSENT_REQUEST_TYPES)[number];

export function isConsentType(type: string): type is ConsentRequestType {
  return (CONSENT_REQUEST_TYPES as readonly string[]).includes(type);
}

/**
 * Checks the purposes a request names against those the data map declares; an unknown one is
 * bad input, named with the declared ones (purpose names are the operator's, never personal).
 */
export function checkPurposes(named: readonly string[], declared: Readonly<Record<string, Purpose>>): void {
  const known = Object.keys(declared);
  const unknown = named.filter((n) => !Object.hasOwn(declared, n));
  if (unknown.length > 0) {
    const list = known.length > 0 ? known.sort().join(', ') : 'none';
    throw new InvalidInputError(`unknown purpose${unknown.length > 1 ? 's' : ''} ${unknown.map((u) => `"${u}"`).join(', ')}: the data map declares ${list}`, { unknown });
  }
  const repeated = named.filter((n, i) => named.indexOf(n) !== i);
  if (repeated.length > 0) throw new InvalidInputError(`purpose "${repeated[0]}" is named twice`);
}

/**
 * Consent is set on the subject's own items, found by a Query of the table's partition key
 * (consistent, with the key and the consent attributes projected): the store needs an owner
 * lookup on its partition key.
 */
export function consentLocationProblem(stores: readonly Store[], storeName: string): string | undefined {
  const store = stores.find((s) => s.name === storeName);
  // A store whose own name is invalid is reported as such; a reference to it is not reported again.
  if (!store && stores.some((s) => !/^[a-z][a-z0-9-]{0,62}$/.test(s.name))) return undefined;
  if (!store) return `no store "${storeName}" in the data map`;
  if (store.kind !== 'dynamodb') return `store "${storeName}" is ${store.kind}: consent is recorded in dynamodb stores only`;
  if (!store.lookups.some((l) => l.role === 'owner' && !l.index && l.attribute === store.key.partitionKey)) {
    return `store "${storeName}" has no owner lookup on its partition key "${store.key.partitionKey}": the subject's consent items could not be found by key`;
  }
  return undefined;
}

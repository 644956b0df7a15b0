/**
 * The data map: the operator's description of where personal data lives.
 *
 * One schema serves the local engine, the Lambda handlers and the CDK construct (which derives
 * least-privilege grants from it), so a map that loads in one loads in all three. Validation
 * happens once, at load, and names the path of every error. Its vocabulary (identifier types,
 * categories, anonymization) is datamap-vocabulary.ts; key templates are key-templates.ts.
 */
import { z } from 'zod';
import { AnonymizationSchema, CategorySchema, IdentifierSettingsSchema, IdentifierTypeSchema } from './datamap-vocabulary';
import { DataMapError } from './errors';
import { templateProblems } from './key-templates';
import { consentLocationProblem, PurposeSchema } from './purposes';

export {
  AnonymizationSchema,
  CATEGORIES,
  CategorySchema,
  IDENTIFIER_TYPES,
  IdentifierSettingsSchema,
  IdentifierTypeSchema,
  type Anonymization,
  type Category,
  type IdentifierSettingsInput,
  type IdentifierType,
} from './datamap-vocabulary';
export { expandTemplate, templatePlaceholders } from './key-templates';

const name = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,62}$/, 'must be lowercase letters, digits and dashes, starting with a letter');
const attribute = z.string().min(1).max(255);
const bucketName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a valid S3 bucket name');
const tableName = z.string().regex(/^[A-Za-z0-9_.-]{3,255}$/, 'must be a valid DynamoDB table name');

/**
 * A way to find records: records whose `attribute` equals an identifier of type `identifier`.
 * `role: owner` records belong to the subject; `role: third-party` records belong to someone
 * else and only mention the subject (their number in another customer's contact list).
 */
const DynamoLookupSchema = z
  .object({
    identifier: IdentifierTypeSchema,
    attribute,
    /** A GSI whose partition key is `attribute`; absent = the table's own partition key. */
    index: z.string().min(3).max(255).optional(),
    role: z.enum(['owner', 'third-party']).default('owner'),
    /**
     * How `attribute` holds values. `any-form` (default): as people type them; discovery queries
     * every common written form of a phone number and an email's stored and lower-case forms.
     * `canonical`: the operator writes canonical values only (a switch's E.164 numbers, or a
     * normalized copy of a typed address such as `contactEmailNormalized`); one Query per value.
     * A key condition is case-sensitive: an address stored in mixed case is found only through
     * a lower-cased copy the operator writes and looks up with `stored: "canonical"`.
     */
    stored: z
      .enum(['any-form', 'canonical'], { error: 'must be "any-form" (values as people type them: every written form is queried) or "canonical" (the operator writes normalized values: E.164 numbers, lower-case addresses)' })
      .default('any-form'),
  })
  .strict();

const ThirdPartySchema = z
  .object({
    /** Fields about the subject inside another person's record, and how each is anonymized on erasure. */
    redact: z.record(attribute, AnonymizationSchema),
    /** Fields of the other person's record that may be shown to the subject (never the other person's identifiers). */
    exportFields: z.array(attribute).default([]),
  })
  .strict();

const DynamoEraseSchema = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('delete') }).strict(),
  z.object({ mode: z.literal('anonymize'), fields: z.record(attribute, AnonymizationSchema) }).strict(),
  z.object({ mode: z.literal('restrict') }).strict(),
]);

const storeCommon = {
  name,
  category: CategorySchema,
  description: z.string().max(500).optional(),
  /** Field holding the date retention counts from (invoice date, call start, deactivation). */
  dateField: attribute.optional(),
};

/**
 * An index that lists records or subjects by a date, for retention enforcement: a GSI whose
 * partition key takes one of `partitionValues` (a status such as `deactivated`, or shard
 * names that spread a busy table's writes) and whose sort key is the ISO date `dateAttribute`.
 * Enforcement Queries each value for dates before the limit's cutoff; a KEYS_ONLY projection
 * is enough (it reads the table keys only).
 */
export const DateIndexSchema = z
  .object({
    index: z.string().min(3).max(255),
    partitionKey: attribute,
    partitionValues: z.array(z.string().min(1).max(255)).min(1).max(100),
    dateAttribute: attribute,
  })
  .strict();
export type DateIndex = z.infer<typeof DateIndexSchema>;

/**
 * How enforcement finds a table's records past their record-level limit (CDRs older than 12
 * months): through a date index, or with a parallel segmented Scan as a bounded maintenance
 * job (each segment reads at most `maxItemsPerSegment` items a run and goes on from there the
 * next run), filtered on the store's `dateField`.
 */
export const ExpirySchema = z.discriminatedUnion('method', [
  DateIndexSchema.extend({ method: z.literal('index') }).strict(),
  z
    .object({
      method: z.literal('scan'),
      segments: z.number().int().min(1).max(64).default(4),
      maxItemsPerSegment: z.number().int().min(100).max(10_000_000).default(1_000_000),
    })
    .strict(),
]);
export type Expiry = z.infer<typeof ExpirySchema>;

export const DynamoDbStoreSchema = z
  .object({
    ...storeCommon,
    kind: z.literal('dynamodb'),
    table: tableName,
    key: z.object({ partitionKey: attribute, sortKey: attribute.optional() }).strict(),
    lookups: z.array(DynamoLookupSchema).min(1),
    /** Attributes of the subject's own records whose values are further identifiers (identity resolution). */
    yields: z.record(attribute, IdentifierTypeSchema).default({}),
    erase: DynamoEraseSchema.default({ mode: 'delete' }),
    thirdParty: ThirdPartySchema.optional(),
    /**
     * Boolean attributes of the subject's own record that put the subject under a hold while
     * true, with the hold's kind (e.g. `fraudInvestigation` → `investigation`).
     */
    holdFlags: z.record(attribute, z.enum(['court-order', 'law-enforcement', 'litigation', 'debt-recovery', 'investigation'])).default({}),
    /** A full-table Scan is expensive and slow: only where the operator says so explicitly. */
    allowScan: z.boolean().default(false),
    /**
     * On the subject's own store (accounts): the dates subject-level retention limits count
     * from (`deactivation`, `termination`), each with the index that lists subjects by it.
     */
    subjectDates: z.record(name, DateIndexSchema).default({}),
    /** How enforcement finds records past a record-level limit (absent: not enforced here). */
    expiry: ExpirySchema.optional(),
    /** How this table writes identifiers; defaults to the data map's `identifiers`. */
    identifiers: IdentifierSettingsSchema.optional(),
  })
  .strict();

export const S3ObjectsStoreSchema = z
  .object({
    ...storeCommon,
    kind: z.literal('s3-objects'),
    bucket: bucketName,
    /** Key prefix per subject, e.g. `recordings/{accountId}/`. Every placeholder must end a path segment. */
    keyTemplate: z.string().min(1).max(1024),
    erase: z.object({ mode: z.enum(['delete', 'restrict']) }).strict().default({ mode: 'delete' }),
  })
  .strict();

const RecordFieldSchema = z
  .object({
    /** Dotted path in a JSON record, or a CSV column name. */
    path: z.string().min(1),
    identifier: IdentifierTypeSchema,
    /** `value`: the whole field equals the identifier; `token`: the identifier appears as a whole token. */
    match: z.enum(['value', 'token']).default('value'),
  })
  .strict();

export const S3RecordsStoreSchema = z
  .object({
    ...storeCommon,
    kind: z.literal('s3-records'),
    bucket: bucketName,
    prefix: z.string().max(1024).default(''),
    format: z.enum(['jsonl', 'csv']),
    compression: z.enum(['gzip', 'none', 'auto']).default('auto'),
    fields: z.array(RecordFieldSchema).min(1),
    /** How this store's records write identifiers; defaults to the data map's `identifiers`. */
    identifiers: IdentifierSettingsSchema.optional(),
    erase: z
      .discriminatedUnion('mode', [
        z.object({ mode: z.literal('delete-record') }).strict(),
        z.object({ mode: z.literal('redact'), fields: z.record(z.string().min(1), AnonymizationSchema) }).strict(),
      ])
      .default({ mode: 'delete-record' }),
    /**
     * A record that does not parse (a truncated JSON line, a CSV row that does not frame) but
     * holds a subject's identifier: `redact` replaces each such identifier in place and keeps every
     * other byte; `report` leaves the record as it is and reports it, and the erasure does not
     * complete while the identifier is readable.
     */
    malformed: z.enum(['redact', 'report']).default('redact'),
    /**
     * gzip level of the objects an erasure rewrites (1 fastest, 9 smallest); absent: the
     * connector's, zlib's default 6. Compressing is most of a rewrite's CPU, so the Lambda bill
     * of a log-erasure pass that rewrites most objects; a lower level trades it for stored bytes
     * (bench/README.md has both, measured on the reference logs).
     */
    gzipLevel: z.number().int().min(1).max(9).optional(),
    /**
     * How an erasure request reaches this store's records. `queued`: the request queues the
     * store and the scheduled log-erasure pass erases every queued subject in one read of the
     * store (functions/core/log-pass.ts); `inline`: the request scans and rewrites the store
     * itself; `auto` (default): queued once the store holds `logPassAboveBytes` (a setting) or
     * more, inline below.
     */
    logPass: z.enum(['auto', 'queued', 'inline']).default('auto'),
  })
  .strict();

export const StoreSchema = z.discriminatedUnion('kind', [DynamoDbStoreSchema, S3ObjectsStoreSchema, S3RecordsStoreSchema]);
export type Store = z.infer<typeof StoreSchema>;
export type DynamoDbStore = z.infer<typeof DynamoDbStoreSchema>;
export type S3ObjectsStore = z.infer<typeof S3ObjectsStoreSchema>;
export type S3RecordsStore = z.infer<typeof S3RecordsStoreSchema>;

/** Whether an object of the store is gzip by its setting (`auto`: by its `.gz` name; its bytes decide when it is read). */
export function isGzipObject(store: Pick<S3RecordsStore, 'compression'>, key: string): boolean {
  return store.compression === 'gzip' || (store.compression === 'auto' && /\.gz$/i.test(key));
}
export type StoreKind = Store['kind'];

export const DataMapSchema = z
  .object({
    version: z.literal(1),
    operator: z.object({ name: z.string().min(1) }).strict().optional(),
    /** How identifiers are written across the operator's stores (a store may say otherwise). */
    identifiers: IdentifierSettingsSchema.default({}),
    stores: z.array(StoreSchema).min(1),
    /** Purposes of processing: each one's legal basis and where its consent is recorded (functions/core/purposes.ts). */
    purposes: z.record(name, PurposeSchema).default({}),
  })
  .strict()
  .superRefine((map, ctx) => {
    for (const [purpose, p] of Object.entries(map.purposes)) {
      p.consentAt.forEach((loc, j) => {
        const problem = consentLocationProblem(map.stores, loc.store);
        if (problem) ctx.addIssue({ code: 'custom', path: ['purposes', purpose, 'consentAt', j, 'store'], message: problem });
      });
    }
    const seen = new Set<string>();
    map.stores.forEach((store, i) => {
      if (seen.has(store.name)) ctx.addIssue({ code: 'custom', path: ['stores', i, 'name'], message: `duplicate store name "${store.name}"` });
      seen.add(store.name);
      if (store.kind === 's3-objects') {
        for (const problem of templateProblems(store.keyTemplate)) {
          ctx.addIssue({ code: 'custom', path: ['stores', i, 'keyTemplate'], message: problem });
        }
      }
      if (store.kind === 'dynamodb') {
        const thirdPartyLookups = store.lookups.filter((l) => l.role === 'third-party');
        if (thirdPartyLookups.length > 0 && !store.thirdParty) {
          ctx.addIssue({ code: 'custom', path: ['stores', i, 'thirdParty'], message: 'required when a lookup has role "third-party"' });
        }
        if (store.expiry?.method === 'scan' && !store.dateField) {
          ctx.addIssue({ code: 'custom', path: ['stores', i, 'expiry'], message: 'a scan expiry filters on the store\'s dateField: set dateField' });
        }
        if (Object.keys(store.subjectDates).length > 0 && !store.lookups.some((l) => l.identifier === 'subjectId' && l.role === 'owner' && !l.index)) {
          ctx.addIssue({ code: 'custom', path: ['stores', i, 'subjectDates'], message: 'subject dates belong on the store whose partition key is the subject id (an owner lookup by "subjectId" without an index)' });
        }
        store.lookups.forEach((l, j) => {
          if (l.stored === 'canonical' && (l.identifier === 'subjectId' || l.identifier === 'accountId' || l.identifier === 'deviceId')) {
            ctx.addIssue({ code: 'custom', path: ['stores', i, 'lookups', j, 'stored'], message: `${l.identifier} values are matched exactly as written and have no canonical form; "stored" applies to phone, email, ip and sipUsername lookups` });
          }
        });
      }
    });
    const resolvable = map.stores.some((s) => s.kind === 'dynamodb' && s.lookups.some((l) => l.identifier === 'subjectId' && l.role === 'owner'));
    if (!resolvable) {
      ctx.addIssue({ code: 'custom', path: ['stores'], message: 'no dynamodb store has an owner lookup by "subjectId": identity resolution would have nowhere to start' });
    }
  })
  // Every log store and table carries the settings it is read with, so a connector given one store has them.
  .transform((map) => ({
    ...map,
    stores: map.stores.map((s) => (s.kind !== 's3-objects' && s.identifiers === undefined ? { ...s, identifiers: map.identifiers } : s)),
  }));
export type DataMap = z.infer<typeof DataMapSchema>;

/** Validates an untrusted data map. Throws DataMapError listing every problem with its path. */
export function parseDataMap(input: unknown, source = 'data map'): DataMap {
  const result = DataMapSchema.safeParse(input);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => `  - ${formatPath(issue.path)}: ${issue.message}`);
  throw new DataMapError(`invalid ${source}:\n${lines.join('\n')}`, { issues: result.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message })) });
}

export function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(root)';
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join('');
}

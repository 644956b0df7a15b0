/**
 * The contract every connector kind implements. A connector knows one kind of store
 * (dynamodb, s3-objects, s3-records); it finds a subject's records, applies planned actions to
 * them, and streams them out for export. It never decides what may be erased: the plan does.
 *
 * Findings and identities hold personal data (keys, identifier values). They live in memory and
 * in the work bucket only, never in state payloads or logs; what leaves a connector for the
 * execution history is counts, finding ids (hashes) and reasons.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import type { IdentifierType, Store } from '../core/datamap';
import type { Anonymizer } from '../core/anonymize';

/** A subject's resolved identity: every identifier value, per type. Personal data. */
export type Identity = Partial<Record<IdentifierType, string[]>>;

export interface ConnectorContext {
  readonly dynamodb: DynamoDBClient;
  readonly s3: S3Client;
  readonly now: Date;
  readonly anonymizer: Anonymizer;
  /** Structured log without personal values: ids, counts, decisions, hashes only. */
  readonly log: (event: string, fields?: Record<string, string | number | boolean | undefined>) => void;
  /**
   * Optional: told about everything a connector found but could not read (a corrupt gzip log
   * object), which it leaves untouched and does not search, so the caller can count and report it.
   */
  readonly onUnreadable?: (item: UnreadableItem) => void;
}

/** Something a connector could not read. No personal values: the location is a hash. */
export interface UnreadableItem {
  readonly store: string;
  /** SHA-256 prefix of the location (bucket and key). */
  readonly ref: string;
  /** A fixed code, e.g. `corrupt-gzip`, `not-gzip`, `csv-header`. */
  readonly reason: string;
}

export interface DynamoLocator {
  readonly type: 'dynamodb';
  readonly table: string;
  /** The item's primary key in DynamoDB's JSON (`{ accountId: { S: 'cust-1' } }`). */
  readonly key: Record<string, unknown>;
}

export interface S3ObjectLocator {
  readonly type: 's3-object';
  readonly bucket: string;
  readonly key: string;
  /** `null` for the null version of an unversioned or suspended bucket. */
  readonly versionId: string | null;
  readonly isDeleteMarker: boolean;
  readonly isLatest: boolean;
  readonly size: number;
}

export interface S3RecordLocator {
  readonly type: 's3-record';
  readonly bucket: string;
  readonly key: string;
  /** ETag of the object version the record was found in; a rewrite of a changed object re-matches. */
  readonly etag: string;
  /** 1-based line (JSON Lines) or record (CSV, header excluded) number. */
  readonly line: number;
  /** SHA-256 of the record's exact bytes: how a rewrite recognises the record again. */
  readonly fingerprint: string;
  /**
   * Set when the record is in a noncurrent version of the object (an older copy, or one under a
   * delete marker). Such a version cannot be rewritten, only deleted whole.
   */
  readonly versionId?: string;
}

export type Locator = DynamoLocator | S3ObjectLocator | S3RecordLocator;

/** Why an S3 version cannot be removed now. */
export interface Protection {
  readonly legalHold: boolean;
  readonly retention?: { readonly mode: 'GOVERNANCE' | 'COMPLIANCE'; readonly retainUntil: string };
}

export interface Finding {
  /** SHA-256 (hex) of the store name and the locator: stable, safe for plans and history. */
  readonly id: string;
  readonly store: string;
  /** `owner`: the subject's own record; `third-party`: someone else's record that mentions the subject. */
  readonly role: 'owner' | 'third-party';
  readonly locator: Locator;
  /** The retention anchor (ISO 8601), when the store names a `dateField` and the record has it. */
  readonly date?: string;
  /** Which fields mention the subject (third-party records, log records): names, never values. */
  readonly fields?: readonly string[];
  /** S3 Object Lock state of the version, when discovery could read it. */
  readonly protection?: Protection;
  /** The record is already marked restricted. */
  readonly restricted?: boolean;
  /** A log record that does not parse, found by an identifier standing in its bytes as a token. */
  readonly malformed?: boolean;
}

/**
 * What to do with one finding. The plan turns retention decisions into these:
 * - `delete`: remove the record (every version, for S3);
 * - `anonymize`: replace the store's named fields per their strategy and keep the record;
 * - `redact-mentions`: in a third-party record, anonymize only the fields about the subject;
 * - `restrict`: keep it, marked restricted (DynamoDB attribute, S3 object tag);
 * - `unrestrict`: lift a restriction;
 * - `keep`: touch nothing (reported).
 */
export type Action = 'delete' | 'anonymize' | 'redact-mentions' | 'restrict' | 'unrestrict' | 'keep';

export interface PlannedAction {
  readonly finding: Finding;
  readonly action: Action;
}

/**
 * Why a finding was left in place: S3 protects its version (legal hold, Object Lock); it is in
 * a noncurrent log version that also holds records of the subject the retention schedule keeps
 * (such a version can only be deleted whole; it goes when they are due); it is the delete marker
 * over a version that stays (deleting it would make that version current again); or it is a log
 * record that does not parse, which its store says to report rather than redact.
 */
export type RefusalReason =
  | 'legal-hold'
  | 'object-lock-governance'
  | 'object-lock-compliance'
  | 'version-holds-retained-records'
  | 'marker-hides-kept-version'
  | 'malformed-record';

export interface ApplyResult {
  /** Per action, how many findings it was applied to. */
  readonly applied: Partial<Record<Action, number>>;
  /** Findings that could not be acted on because S3 protects them; untouched. */
  readonly refused: ReadonlyArray<{ readonly findingId: string; readonly reason: RefusalReason }>;
  /** Findings gone by the time of the action (deleted meanwhile): nothing to do, reported. */
  readonly missing: readonly string[];
  /**
   * Finding ids of object versions that appeared under an erased key while the erasure ran (a
   * concurrent upload). No plan covered them, so they are left in place and reported (s3-objects).
   */
  readonly appeared?: readonly string[];
  /** Log records that could not be parsed, kept byte for byte (s3-records only). */
  readonly malformedKept?: number;
}

/** One unit of exported data. Third-party values are already redacted by the connector. */
export type ExportItem =
  | { readonly type: 'record'; readonly findingId: string; readonly role: 'owner' | 'third-party'; readonly record: Record<string, unknown> }
  | {
      readonly type: 'file';
      readonly findingId: string;
      /** File name inside the bundle, unique within the store (no "/" escapes). */
      readonly name: string;
      readonly size: number;
      readonly contentType?: string;
      readonly open: () => Promise<Readable>;
    }
  | { readonly type: 'missing'; readonly findingId: string; readonly reason: string };

/** One of the subject's own records found by identity resolution. Personal data: memory only. */
export interface OwnerRecord {
  /** The identifier types of the owner lookups that match the record. */
  readonly matchedBy: readonly IdentifierType[];
  /**
   * Per attribute the store's `yields` names, the identifier strings it holds (a string, or the
   * strings of a set or list; nothing else yields). Attributes the record lacks give none.
   */
  readonly yielded: Readonly<Record<string, readonly string[]>>;
}

export interface OwnerLookup {
  readonly records: readonly OwnerRecord[];
  /** Requests the lookup sent (for the logs). */
  readonly queries: number;
}

export interface Connector<S extends Store = Store> {
  readonly kind: S['kind'];
  discover(store: S, identity: Identity, ctx: ConnectorContext): Promise<Finding[]>;
  apply(store: S, identity: Identity, actions: readonly PlannedAction[], ctx: ConnectorContext): Promise<ApplyResult>;
  export(store: S, identity: Identity, findings: readonly Finding[], ctx: ConnectorContext): AsyncIterable<ExportItem>;
  /**
   * Identity resolution's read, for kinds whose stores can declare `yields` (dynamodb): the
   * records that match `identity` through the store's OWNER lookups only (a third-party mention
   * must never feed the identity), with what they yield.
   */
  findOwnerRecords?(store: S, identity: Identity, ctx: Pick<ConnectorContext, 'dynamodb' | 'log'>): Promise<OwnerLookup>;
  /**
   * Consent withdrawal (dynamodb): sets one attribute of the subject's own items (found by the
   * store's owner lookups on its partition key, optionally only those where another attribute
   * equals a value) to `target.value`, each with a conditional write on the value it read, and
   * touches nothing else. An item whose attribute is absent is left alone.
   */
  setAttribute?(store: S, identity: Identity, target: AttributeTarget, ctx: ConnectorContext): Promise<AttributeChange[]>;
}

/** One attribute to set on the subject's own items of a store (a dotted path reaches into maps). */
export interface AttributeTarget {
  readonly attribute: string;
  readonly value: boolean | string;
  readonly where?: { readonly attribute: string; readonly equals: string };
}

/**
 * What setting one attribute did to one item. `before`/`after` are the values (personal data:
 * memory only; core turns them into keyed hashes). `itemRef` is a finding id, safe anywhere.
 */
export interface AttributeChange {
  readonly itemRef: string;
  readonly status: 'changed' | 'unchanged' | 'absent';
  readonly before: unknown;
  readonly after: unknown;
}

/**
 * The connector of each store: handed to core by the handler layer (functions/handlers/runtime.ts
 * gives functions/connectors/index.ts), so that core depends on this contract only.
 */
export type ConnectorRegistry = (store: Store) => Connector;

/** A key of a log store as a pass plans its work: sizes only, no record read. */
export interface ListedKey {
  readonly key: string;
  /** Versions and delete markers under the key: every one is read or deleted by the pass. */
  readonly versions: number;
  /** Stored (compressed) bytes of all its versions. */
  readonly storedBytes: number;
}

/** One subject's share of a batched apply: its identity and its planned actions. */
export interface SubjectWork {
  readonly identity: Identity;
  readonly actions: readonly PlannedAction[];
}

/** What happened to one object of a batched apply: keyed by hash, so it may reach state and receipts. */
export interface ObjectOutcome {
  readonly keyHash: string;
  readonly status: 'rewritten' | 'unchanged' | 'refused' | 'unreadable' | 'missing' | 'version-deleted';
  /** The write-verify result of a rewrite: the new body's SHA-256 and record count, as read back. */
  readonly verified?: { readonly sha256: string; readonly records: number };
}

export interface BatchApplyResult {
  /** Per subject reference, what `apply` would have returned for that subject alone. */
  readonly perSubject: ReadonlyMap<string, ApplyResult>;
  readonly objects: readonly ObjectOutcome[];
}

/**
 * Kinds whose stores are read once for many subjects (s3-records): the batched log-erasure pass
 * lists the keys into work units, discovers every queued subject in a unit with one read of each
 * object, and applies all their plans with at most one rewrite per object.
 */
export interface BatchConnector<S extends Store = Store> extends Connector<S> {
  listKeys(store: S, ctx: ConnectorContext): AsyncIterable<ListedKey>;
  discoverMany(store: S, subjects: ReadonlyMap<string, Identity>, keys: readonly string[], ctx: ConnectorContext): Promise<ReadonlyMap<string, Finding[]>>;
  applyMany(store: S, work: ReadonlyMap<string, SubjectWork>, ctx: ConnectorContext): Promise<BatchApplyResult>;
  /**
   * discoverMany and applyMany over `keys` with one read of each object: in rounds of bounded
   * memory, each round's findings handed to `decide` (what goes, per subject; a subject left out
   * of its answer is not touched in that round), its objects rewritten from what the scan kept.
   * Per subject, the sum over the rounds of what applyMany reports.
   */
  eraseMany(
    store: S,
    subjects: ReadonlyMap<string, Identity>,
    keys: readonly string[],
    decide: (found: ReadonlyMap<string, Finding[]>) => Promise<ReadonlyMap<string, SubjectWork>>,
    ctx: ConnectorContext,
    opts?: { readonly roundBytes?: number },
  ): Promise<BatchApplyResult>;
}

export function isBatchConnector(c: Connector): c is BatchConnector {
  const b = c as Partial<BatchConnector>;
  return typeof b.listKeys === 'function' && typeof b.discoverMany === 'function' && typeof b.applyMany === 'function' && typeof b.eraseMany === 'function';
}

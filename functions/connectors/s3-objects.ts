/**
 * The `s3-objects` connector: media files (recordings, voicemail, fax) kept per subject under a
 * key prefix. Discovery lists every version and delete marker under the subject's prefixes and
 * reads each version's Object Lock state; erasure deletes exactly the planned versions and
 * markers by version id and never bypasses governance retention; restriction tags versions;
 * export streams the latest version of each key.
 *
 * Logs and errors carry the store name, counts and finding ids: never a key or a value.
 */
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  GetObjectLegalHoldCommand,
  GetObjectRetentionCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutObjectTaggingCommand,
  type ObjectIdentifier,
  type S3Client,
  type Tag,
} from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import { backoffDelay, DEFAULT_BACKOFF, sleep, type BackoffOptions } from '../core/backoff';
import { expandTemplate, templatePlaceholders, type IdentifierType, type S3ObjectsStore } from '../core/datamap';
import { DataMapError, DsrError, InvalidInputError, StoreUnavailableError, VerificationFailedError } from '../core/errors';
import { findingId } from '../core/hash';
import { mapLimit } from '../core/map-limit';
import { versionPages } from '../aws/s3-version-pages';
import { compareText, isGone, pageEntries, refusalFor } from './s3-shared';
import type {
  Action,
  ApplyResult,
  Connector,
  ConnectorContext,
  ExportItem,
  Finding,
  Identity,
  PlannedAction,
  Protection,
  RefusalReason,
  S3ObjectLocator,
} from './types';

/** The object tag that marks a version restricted (S3 allows tags on locked versions). */
export const RESTRICTED_TAG: Readonly<Tag> = { Key: 'dsr-restricted', Value: 'true' };

/** S3 allows at most 10 tags per object version. */
const MAX_TAGS = 10;
/** DeleteObjects takes at most 1000 keys per request. */
const DELETE_BATCH = 1000;
/** Prefixes one discovery may list (a template with several placeholders multiplies them). */
const MAX_PREFIXES = 10_000;

export interface S3ObjectsConnectorOptions {
  /** MaxKeys per ListObjectVersions page; absent: S3's 1000. */
  readonly pageSize?: number;
  /** Requests in flight at once (protection and tag reads, tagging, HeadObject). */
  readonly concurrency?: number;
  /** Retries of DeleteObjects entries that failed with a transient error. */
  readonly backoff?: Partial<BackoffOptions>;
}

/** A version cannot take the restriction tag: it already has S3's maximum of 10 tags. */
export class TagLimitError extends DsrError {
  constructor(store: string, findingIdValue: string) {
    super(`store ${store}: finding ${findingIdValue} already has ${MAX_TAGS} tags; the restriction tag cannot be added`, { store, findingId: findingIdValue });
    this.name = 'TagLimitExceeded';
  }
}

interface ListedVersion {
  readonly key: string;
  /** `null`: the null version. */
  readonly versionId: string | null;
  readonly isDeleteMarker: boolean;
  readonly isLatest: boolean;
  readonly size: number;
  readonly lastModified?: Date;
}

interface ListStats {
  listRequests: number;
  /** Keys S3 returned that do not start with the prefix asked for: ignored. */
  outsidePrefix: number;
}

/** Per discovery or apply: once a bucket says it has no Object Lock, no more lock reads. */
interface LockState {
  unlocked: boolean;
}

const GONE = Symbol('gone');

export function createS3ObjectsConnector(options: S3ObjectsConnectorOptions = {}): Connector<S3ObjectsStore> {
  const concurrency = options.concurrency ?? 8;
  const backoff: BackoffOptions = { ...DEFAULT_BACKOFF, ...options.backoff };

  return {
    kind: 's3-objects',

    async discover(store, identity, ctx) {
      const { prefixes, skippedValues } = subjectPrefixes(store, identity);
      const stats: ListStats = { listRequests: 0, outsidePrefix: 0 };
      const listed: ListedVersion[] = [];
      for (const prefix of prefixes) listed.push(...(await listVersions(ctx.s3, store, prefix, options.pageSize, stats)));

      const lock: LockState = { unlocked: false };
      let vanished = 0;
      let protectionReads = 0;
      let tagReads = 0;
      const findings = await mapLimit(listed, concurrency, async (v): Promise<Finding | undefined> => {
        const locator = locatorOf(store, v);
        const base = { id: findingId(store.name, locator), store: store.name, role: 'owner' as const, locator, ...(v.lastModified ? { date: v.lastModified.toISOString() } : {}) };
        if (v.isDeleteMarker) return base;
        const lockKnownAbsent = lock.unlocked;
        const [protection, tags] = await Promise.all([readProtection(ctx.s3, store, v.key, v.versionId, lock), readTags(ctx.s3, store, v.key, v.versionId)]);
        protectionReads += lockKnownAbsent ? 0 : 2;
        tagReads++;
        if (protection === GONE || tags === GONE) {
          vanished++;
          return undefined;
        }
        const restricted = tags.some((t) => t.Key === RESTRICTED_TAG.Key && t.Value === RESTRICTED_TAG.Value);
        return { ...base, protection, ...(restricted ? { restricted: true } : {}) };
      });
      const result = findings.filter((f): f is Finding => f !== undefined);
      ctx.log('s3-objects.discover', {
        store: store.name,
        prefixes: prefixes.length,
        skippedValues,
        listRequests: stats.listRequests,
        outsidePrefix: stats.outsidePrefix,
        protectionReads,
        tagReads,
        versions: result.filter((f) => !(f.locator as S3ObjectLocator).isDeleteMarker).length,
        deleteMarkers: result.filter((f) => (f.locator as S3ObjectLocator).isDeleteMarker).length,
        protected: result.filter((f) => f.protection && refusalFor(f.protection, ctx.now) !== undefined).length,
        restricted: result.filter((f) => f.restricted).length,
        vanished,
        bucketWithoutObjectLock: lock.unlocked,
      });
      return result;
    },

    async apply(store, identity, actions, ctx) {
      const { prefixes } = subjectPrefixes(store, identity);
      const byAction = groupActions(store, prefixes, actions);
      const applied: Partial<Record<Action, number>> = {};
      const count = (action: Action, n: number): void => {
        if (n > 0) applied[action] = (applied[action] ?? 0) + n;
      };
      const refused: Array<{ findingId: string; reason: RefusalReason }> = [];
      const missing: string[] = [];
      const appeared: string[] = [];
      count('keep', byAction.keep.length);

      if (byAction.delete.length > 0) {
        const out = await deleteVersions(ctx, store, prefixes, byAction.delete, options.pageSize, backoff);
        count('delete', out.deleted);
        refused.push(...out.refused);
        missing.push(...out.missing);
        appeared.push(...out.appeared);
      }
      for (const action of ['restrict', 'unrestrict'] as const) {
        const findings = byAction[action];
        const outcomes = await mapLimit(findings, concurrency, (f) => setRestricted(ctx.s3, store, f, action === 'restrict'));
        findings.forEach((f, i) => {
          if (outcomes[i] === GONE) missing.push(f.id);
        });
        count(action, outcomes.filter((o) => o !== GONE).length);
      }

      ctx.log('s3-objects.apply', {
        store: store.name,
        ...Object.fromEntries(Object.entries(applied).map(([a, n]) => [`applied.${a}`, n])),
        refused: refused.length,
        missing: missing.length,
        appeared: appeared.length,
      });
      return { applied, refused, missing, ...(appeared.length > 0 ? { appeared } : {}) } satisfies ApplyResult;
    },

    async *export(store, identity, findings, ctx): AsyncIterable<ExportItem> {
      const { prefixes } = subjectPrefixes(store, identity);
      for (const f of findings) checkFinding(store, prefixes, f);
      const latest = findings
        .filter((f) => {
          const l = f.locator as S3ObjectLocator;
          return l.isLatest && !l.isDeleteMarker;
        })
        .sort((a, b) => compareText((a.locator as S3ObjectLocator).key, (b.locator as S3ObjectLocator).key));
      const heads = await mapLimit(latest, concurrency, (f) => headVersion(ctx.s3, store, f.locator as S3ObjectLocator));
      const names = new UniqueNames();
      let files = 0;
      let gone = 0;
      for (const [i, f] of latest.entries()) {
        const head = heads[i];
        if (head === GONE) {
          gone++;
          yield { type: 'missing', findingId: f.id, reason: 'version-gone' };
          continue;
        }
        const locator = f.locator as S3ObjectLocator;
        files++;
        yield {
          type: 'file',
          findingId: f.id,
          name: names.take(lastSegment(locator.key)),
          size: head.size,
          ...(head.contentType ? { contentType: head.contentType } : {}),
          open: () => openVersion(ctx.s3, store, locator),
        };
      }
      ctx.log('s3-objects.export', { store: store.name, files, missing: gone, notLatest: findings.length - latest.length });
    },
  };
}

/** The connector with default options. */
export const s3ObjectsConnector: Connector<S3ObjectsStore> = createS3ObjectsConnector();

/**
 * The subject's key prefixes: the template expanded for every combination of the identity's
 * values of its placeholder types. A value that cannot stand in a key (empty, ".", "..", or
 * containing "/") is skipped and counted.
 */
export function subjectPrefixes(store: S3ObjectsStore, identity: Identity): { prefixes: string[]; skippedValues: number } {
  const types = [...new Set(templatePlaceholders(store.keyTemplate))];
  let skippedValues = 0;
  const usable = new Map<IdentifierType, string[]>();
  for (const type of types) {
    const ok: string[] = [];
    for (const value of new Set(identity[type] ?? [])) {
      try {
        expandTemplate(`{${type}}/`, { [type]: value });
        ok.push(value);
      } catch (err) {
        if (!(err instanceof DataMapError)) throw err;
        skippedValues++;
      }
    }
    usable.set(type, ok);
  }
  let combos: Array<Partial<Record<IdentifierType, string>>> = [{}];
  for (const type of types) {
    combos = combos.flatMap((c) => (usable.get(type) ?? []).map((v) => ({ ...c, [type]: v })));
    if (combos.length > MAX_PREFIXES) throw new DataMapError(`store ${store.name}: the key template expands to more than ${MAX_PREFIXES} prefixes for one subject`, { store: store.name });
  }
  const prefixes = types.length === 0 ? [] : [...new Set(combos.map((c) => expandTemplate(store.keyTemplate, c)))].sort(compareText);
  return { prefixes, skippedValues };
}

function locatorOf(store: S3ObjectsStore, v: ListedVersion): S3ObjectLocator {
  return { type: 's3-object', bucket: store.bucket, key: v.key, versionId: v.versionId, isDeleteMarker: v.isDeleteMarker, isLatest: v.isLatest, size: v.size };
}

/** Every version and delete marker under `prefix`, all pages, in S3's order (by key, newest first). */
async function listVersions(s3: S3Client, store: S3ObjectsStore, prefix: string, pageSize: number | undefined, stats: ListStats): Promise<ListedVersion[]> {
  const out: ListedVersion[] = [];
  const send = (command: ListObjectVersionsCommand) => {
    stats.listRequests++;
    return call(store, 'ListObjectVersions', () => s3.send(command));
  };
  const pages = versionPages(send, { Bucket: store.bucket, Prefix: prefix, ...(pageSize ? { MaxKeys: pageSize } : {}) }, (message) => new StoreUnavailableError(store.name, message));
  for await (const page of pages) {
    for (const e of pageEntries(page)) {
      if (!e.key.startsWith(prefix)) {
        stats.outsidePrefix++;
        continue;
      }
      out.push({ key: e.key, versionId: versionOf(e.versionId), isDeleteMarker: e.deleteMarker, isLatest: e.isLatest, size: e.size, lastModified: e.lastModified });
    }
  }
  // Versions and markers come in two lists; S3's order is by key, then newest first.
  return out.sort((a, b) => compareText(a.key, b.key) || (b.lastModified?.getTime() ?? 0) - (a.lastModified?.getTime() ?? 0));
}

function versionOf(id: string | undefined): string | null {
  return id === undefined || id === 'null' ? null : id;
}

function versionParam(versionId: string | null): string {
  return versionId ?? 'null';
}

/**
 * A version's legal hold and retention. "No configuration" answers mean unprotected:
 * NoSuchObjectLockConfiguration (this version has none), and InvalidRequest "Bucket is missing
 * Object Lock Configuration" (the bucket has no Object Lock: nothing there can be locked).
 */
async function readProtection(s3: S3Client, store: S3ObjectsStore, key: string, versionId: string | null, lock: LockState): Promise<Protection | typeof GONE> {
  if (lock.unlocked) return { legalHold: false };
  const params = { Bucket: store.bucket, Key: key, VersionId: versionParam(versionId) };
  const read = async <T>(operation: string, send: () => Promise<T>): Promise<T | undefined | typeof GONE> => {
    try {
      return await send();
    } catch (err) {
      const name = errorName(err);
      if (name === 'NoSuchObjectLockConfiguration') return undefined;
      if (name === 'InvalidRequest' && /object lock/i.test((err as Error).message ?? '')) {
        lock.unlocked = true;
        return undefined;
      }
      if (isGone(err)) return GONE;
      throw new StoreUnavailableError(store.name, `${operation} failed (${name})`, { cause: err });
    }
  };
  const [hold, retention] = await Promise.all([
    read('GetObjectLegalHold', () => s3.send(new GetObjectLegalHoldCommand(params))),
    read('GetObjectRetention', () => s3.send(new GetObjectRetentionCommand(params))),
  ]);
  if (hold === GONE || retention === GONE) return GONE;
  const mode = retention?.Retention?.Mode;
  const until = retention?.Retention?.RetainUntilDate;
  return {
    legalHold: hold?.LegalHold?.Status === 'ON',
    ...(mode && until ? { retention: { mode, retainUntil: new Date(until).toISOString() } } : {}),
  };
}

async function readTags(s3: S3Client, store: S3ObjectsStore, key: string, versionId: string | null): Promise<Tag[] | typeof GONE> {
  try {
    const out = await s3.send(new GetObjectTaggingCommand({ Bucket: store.bucket, Key: key, VersionId: versionParam(versionId) }));
    return out.TagSet ?? [];
  } catch (err) {
    if (isGone(err)) return GONE;
    throw new StoreUnavailableError(store.name, `GetObjectTagging failed (${errorName(err)})`, { cause: err });
  }
}

function groupActions(store: S3ObjectsStore, prefixes: readonly string[], actions: readonly PlannedAction[]): Record<Action, Finding[]> {
  const groups: Record<Action, Finding[]> = { delete: [], anonymize: [], 'redact-mentions': [], restrict: [], unrestrict: [], keep: [] };
  const seen = new Map<string, Action>();
  for (const { finding, action } of actions) {
    checkFinding(store, prefixes, finding);
    if (action === 'anonymize' || action === 'redact-mentions') {
      throw new InvalidInputError(`store ${store.name}: ${action} does not apply to stored files; use delete or restrict`, { store: store.name });
    }
    if (!(action in groups)) throw new InvalidInputError(`store ${store.name}: unknown action for finding ${finding.id}`, { store: store.name });
    const previous = seen.get(finding.id);
    if (previous === action) continue;
    if (previous) throw new InvalidInputError(`store ${store.name}: finding ${finding.id} has two actions (${previous}, ${action})`, { store: store.name });
    seen.set(finding.id, action);
    groups[action].push(finding);
  }
  return groups;
}

/**
 * A finding this store may act on for this subject: its own, in its bucket, and under one of
 * the subject's prefixes, so a plan can never reach another subject's files.
 */
function checkFinding(store: S3ObjectsStore, prefixes: readonly string[], f: Finding): void {
  const problem = (what: string): never => {
    throw new InvalidInputError(`store ${store.name}: finding ${f.id} ${what}`, { store: store.name, findingId: f.id });
  };
  if (f.store !== store.name) problem('belongs to another store');
  const l = f.locator as S3ObjectLocator;
  if (l.type !== 's3-object' || l.bucket !== store.bucket || typeof l.key !== 'string') problem('does not locate an object of this bucket');
  if (!prefixes.some((p) => l.key.startsWith(p))) problem("is not under the subject's key prefix");
  if (f.id !== findingId(store.name, l)) problem('does not match its locator');
}

interface DeleteOutcome {
  deleted: number;
  refused: Array<{ findingId: string; reason: RefusalReason }>;
  missing: string[];
  appeared: string[];
}

const versionKey = (key: string, versionId: string | null): string => `${key}\u0000${versionParam(versionId)}`;

/**
 * Deletes the planned versions and delete markers by version id (DeleteObjects, never the
 * bypass-governance header). Versions discovery saw protected are refused without a request;
 * a version S3 denies is re-read and refused with its protection. The keys are listed before
 * (what is gone is missing) and after (what is new appeared meanwhile and is reported).
 */
async function deleteVersions(
  ctx: ConnectorContext,
  store: S3ObjectsStore,
  prefixes: readonly string[],
  findings: readonly Finding[],
  pageSize: number | undefined,
  backoff: BackoffOptions,
): Promise<DeleteOutcome> {
  const outcome: DeleteOutcome = { deleted: 0, refused: [], missing: [], appeared: [] };
  const stats: ListStats = { listRequests: 0, outsidePrefix: 0 };
  const keys = new Set(findings.map((f) => (f.locator as S3ObjectLocator).key));
  const touched = prefixes.filter((p) => [...keys].some((k) => k.startsWith(p)));
  const listKeys = async (): Promise<ListedVersion[]> => {
    const all: ListedVersion[] = [];
    for (const p of touched) all.push(...(await listVersions(ctx.s3, store, p, pageSize, stats)));
    return all.filter((v) => keys.has(v.key));
  };

  const listedBefore = await listKeys();
  const before = new Set(listedBefore.map((v) => versionKey(v.key, v.versionId)));
  let toDelete: Finding[] = [];
  for (const f of findings) {
    const l = f.locator as S3ObjectLocator;
    const reason = !l.isDeleteMarker && f.protection ? refusalFor(f.protection, ctx.now) : undefined;
    if (!before.has(versionKey(l.key, l.versionId))) outcome.missing.push(f.id);
    else if (reason) outcome.refused.push({ findingId: f.id, reason });
    else toDelete.push(f);
  }
  const hiding = markersHidingKeptVersions(listedBefore, toDelete);
  if (hiding.size > 0) {
    toDelete = toDelete.filter((f) => !hiding.has(f.id));
    for (const id of hiding) outcome.refused.push({ findingId: id, reason: 'marker-hides-kept-version' });
  }

  const byVersion = new Map(toDelete.map((f) => [versionKey((f.locator as S3ObjectLocator).key, (f.locator as S3ObjectLocator).versionId), f]));
  const denied: Finding[] = [];
  for (let i = 0; i < toDelete.length; i += DELETE_BATCH) {
    let pending: ObjectIdentifier[] = toDelete.slice(i, i + DELETE_BATCH).map((f) => {
      const l = f.locator as S3ObjectLocator;
      return { Key: l.key, VersionId: versionParam(l.versionId) };
    });
    for (let attempt = 1; pending.length > 0; attempt++) {
      if (attempt > backoff.maxAttempts) throw new StoreUnavailableError(store.name, `DeleteObjects: ${pending.length} version(s) still failing after ${backoff.maxAttempts} attempts`);
      if (attempt > 1) await sleep(backoffDelay(attempt - 1, backoff));
      const batch = pending;
      const out = await call(store, 'DeleteObjects', () => ctx.s3.send(new DeleteObjectsCommand({ Bucket: store.bucket, Delete: { Objects: batch, Quiet: true } })));
      pending = [];
      for (const e of out.Errors ?? []) {
        const f = byVersion.get(versionKey(e.Key ?? '', versionOf(e.VersionId)));
        if (!f) throw new StoreUnavailableError(store.name, `DeleteObjects reported an error (${e.Code}) for a version it was not asked to delete`);
        if (e.Code === 'AccessDenied') denied.push(f);
        else if (isTransient(e.Code)) pending.push({ Key: e.Key, VersionId: e.VersionId });
        else throw new StoreUnavailableError(store.name, `DeleteObjects failed for finding ${f.id} (${e.Code})`);
      }
    }
  }

  // Denied: S3 knows a protection discovery did not see (placed since). Re-read and report it.
  const lock: LockState = { unlocked: false };
  const deniedIds = new Set<string>();
  for (const f of denied) {
    const l = f.locator as S3ObjectLocator;
    const protection = await readProtection(ctx.s3, store, l.key, l.versionId, lock);
    if (protection === GONE) {
      outcome.missing.push(f.id);
      deniedIds.add(f.id);
      continue;
    }
    // S3 decides with its own clock: any protection it reports is what denied the delete.
    const reason = refusalFor(protection, new Date(0));
    if (!reason) throw new StoreUnavailableError(store.name, `DeleteObjects: access denied for finding ${f.id}, which has no Object Lock protection (check permissions)`);
    outcome.refused.push({ findingId: f.id, reason });
    deniedIds.add(f.id);
  }
  outcome.deleted = toDelete.length - deniedIds.size;

  // After: every deleted version must be gone; anything new under these keys is reported.
  const after = await listKeys();
  const deleted = new Set(toDelete.filter((f) => !deniedIds.has(f.id)).map((f) => versionKey((f.locator as S3ObjectLocator).key, (f.locator as S3ObjectLocator).versionId)));
  const survivors = after.filter((v) => deleted.has(versionKey(v.key, v.versionId)));
  if (survivors.length > 0) {
    throw new VerificationFailedError(`store ${store.name}: ${survivors.length} deleted version(s) still listed after DeleteObjects`, { store: store.name, count: survivors.length });
  }
  for (const v of after) {
    if (!before.has(versionKey(v.key, v.versionId))) outcome.appeared.push(findingId(store.name, locatorOf(store, v)));
  }
  return outcome;
}

/**
 * The planned delete markers that are the latest entry of a key some version of which stays (held,
 * retained, or not in the plan): deleting such a marker would make the kept version the current
 * object again, served to every reader, though its owner deleted it. They stay, and are reported.
 */
function markersHidingKeptVersions(listed: readonly ListedVersion[], toDelete: readonly Finding[]): Set<string> {
  const deleting = new Map(toDelete.map((f) => [versionKey((f.locator as S3ObjectLocator).key, (f.locator as S3ObjectLocator).versionId), f.id]));
  const keysKeepingAVersion = new Set(listed.filter((v) => !v.isDeleteMarker && !deleting.has(versionKey(v.key, v.versionId))).map((v) => v.key));
  const out = new Set<string>();
  for (const v of listed) {
    if (!v.isDeleteMarker || !v.isLatest || !keysKeepingAVersion.has(v.key)) continue;
    const id = deleting.get(versionKey(v.key, v.versionId));
    if (id !== undefined) out.add(id);
  }
  return out;
}

async function setRestricted(s3: S3Client, store: S3ObjectsStore, f: Finding, restrict: boolean): Promise<'ok' | typeof GONE> {
  const l = f.locator as S3ObjectLocator;
  // A delete marker has no tags and no content: nothing to restrict.
  if (l.isDeleteMarker) return 'ok';
  const tags = await readTags(s3, store, l.key, l.versionId);
  if (tags === GONE) return GONE;
  const others = tags.filter((t) => t.Key !== RESTRICTED_TAG.Key);
  const has = tags.some((t) => t.Key === RESTRICTED_TAG.Key && t.Value === RESTRICTED_TAG.Value);
  if (restrict ? has : !tags.some((t) => t.Key === RESTRICTED_TAG.Key)) return 'ok';
  if (restrict && others.length >= MAX_TAGS) throw new TagLimitError(store.name, f.id);
  const TagSet = restrict ? [...others, { ...RESTRICTED_TAG }] : others;
  try {
    await s3.send(new PutObjectTaggingCommand({ Bucket: store.bucket, Key: l.key, VersionId: versionParam(l.versionId), Tagging: { TagSet } }));
  } catch (err) {
    if (isGone(err)) return GONE;
    throw new StoreUnavailableError(store.name, `PutObjectTagging failed (${errorName(err)})`, { cause: err });
  }
  return 'ok';
}

async function headVersion(s3: S3Client, store: S3ObjectsStore, l: S3ObjectLocator): Promise<{ size: number; contentType?: string } | typeof GONE> {
  try {
    const out = await s3.send(new HeadObjectCommand({ Bucket: store.bucket, Key: l.key, VersionId: versionParam(l.versionId) }));
    return { size: out.ContentLength ?? l.size, ...(out.ContentType ? { contentType: out.ContentType } : {}) };
  } catch (err) {
    if (isGone(err)) return GONE;
    throw new StoreUnavailableError(store.name, `HeadObject failed (${errorName(err)})`, { cause: err });
  }
}

async function openVersion(s3: S3Client, store: S3ObjectsStore, l: S3ObjectLocator): Promise<Readable> {
  const out = await call(store, 'GetObject', () => s3.send(new GetObjectCommand({ Bucket: store.bucket, Key: l.key, VersionId: versionParam(l.versionId) })));
  if (!out.Body) throw new StoreUnavailableError(store.name, 'GetObject returned no body');
  return out.Body as Readable;
}

/** The last segment of a key as a file name: no separators or control characters, never "." or "..". */
function lastSegment(key: string): string {
  // eslint-disable-next-line no-control-regex
  const name = (key.split('/').pop() ?? '').replace(/[\u0000-\u001f\u007f\\]/g, '_');
  return name === '' || name === '.' || name === '..' ? 'object' : name;
}

/** File names unique within one export, also on case-insensitive file systems: `a.wav`, `a-2.wav`, ... */
class UniqueNames {
  private readonly taken = new Set<string>();
  take(name: string): string {
    const dot = name.lastIndexOf('.');
    const [stem, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
    let candidate = name;
    for (let n = 2; this.taken.has(candidate.toLowerCase()); n++) candidate = `${stem}-${n}${ext}`;
    this.taken.add(candidate.toLowerCase());
    return candidate;
  }
}

function errorName(err: unknown): string {
  return (err as { name?: string })?.name ?? 'Error';
}

function isTransient(code: string | undefined): boolean {
  return code === 'InternalError' || code === 'SlowDown' || code === 'ServiceUnavailable' || code === 'RequestTimeout';
}

async function call<T>(store: S3ObjectsStore, operation: string, send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (err) {
    const name = errorName(err);
    if (name === 'NoSuchBucket') throw new DataMapError(`store ${store.name}: bucket ${store.bucket} does not exist`, { store: store.name }, { cause: err });
    throw new StoreUnavailableError(store.name, `${operation} failed (${name})`, { cause: err });
  }
}

/**
 * The batched log-erasure pass, begun. Erasure requests queue their big log stores
 * (log-queue.ts); a pass takes every queued subject (up to `maxSubjects`), checks their holds
 * and takes their erasure leases, packs each store's keys into work units (log-pass-units.ts)
 * and writes the manifest the Distributed Map reads. Each unit then discovers and erases every
 * subject of the pass with one read of each object (log-pass-unit.ts), and the pass finishes
 * with one chained receipt per request (log-pass-finish.ts).
 *
 * A pass that stopped half-way (a failed unit, a timeout) stays `running` in the ledger; the
 * next run resumes it with the same units, and the units whose results exist are not done again.
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { isBatchConnector, type Identity } from '../connectors/types';
import { acquireErasureLease, HoldsChangedError, readHoldVersions, SubjectErasureInProgressError, type HoldVersions } from './erasure-lock';
import { DataMapError } from './errors';
import { sha256Hex } from './hash';
import { findHoldsForSubject } from './holds';
import { logQueueCounts, markPostponed, markTaken, queuedLogErasures, type QueuedLogErasure } from './log-queue';
import { packUnits, passKeys, type ManifestLine, type WorkUnit } from './log-pass-units';
import { storeNamed } from './request-data';
import type { ActiveHold } from './retention';
import type { Runtime } from './runtime';
import { deferredIdentityKey } from './sweep';

/** One subject of a pass in one store. Personal (identity): in the work bucket only. */
export interface PassSubject {
  /** A hash of the subject id: what unit results are keyed by. */
  readonly ref: string;
  readonly subjectId: string;
  readonly identity: Identity;
  readonly holds: readonly ActiveHold[];
  readonly seen: HoldVersions;
  readonly requestIds: readonly string[];
}

/** The pass document: ids and counts, no personal value. */
export interface PassDocument {
  readonly passId: string;
  readonly startedAt: string;
  /** The clock the decisions use (a local `--now` moves it). */
  readonly now: string;
  readonly stores: Record<string, { subjects: number; requests: readonly string[]; units: number; keys: number; versions: number; storedBytes: number }>;
  readonly units: number;
  readonly postponed: number;
}

export interface PassStart {
  readonly passId: string | null;
  readonly now: string;
  /** `started`, `resumed`, `not-due` (no deadline near, the interval not over) or `empty` (nothing queued). */
  readonly status: 'started' | 'resumed' | 'not-due' | 'empty';
  readonly bucket: string;
  readonly manifestKey: string | null;
  readonly resultsPrefix: string | null;
  readonly units: number;
  readonly subjects: number;
  readonly requests: number;
  readonly postponed: number;
  readonly maxConcurrency: number;
  /** The queue as the alarm sees it: open log erasures, and those past their deadline. */
  readonly queue: { readonly queued: number; readonly overdue: number };
}

const CURRENT_KEY = { pk: 'logpass', sk: 'current' };

export function subjectRef(subjectId: string): string {
  return sha256Hex(`log-pass-subject\u0000${subjectId}`).slice(0, 32);
}

export function passLeaseId(passId: string): string {
  return `logpass-${passId}`;
}

/** Identifiers of every request of the subject, together (two requests may have resolved at different times). */
function mergeIdentities(identities: readonly Identity[]): Identity {
  const merged: Record<string, Set<string>> = {};
  for (const identity of identities) for (const [type, values] of Object.entries(identity)) for (const v of values ?? []) (merged[type] ??= new Set()).add(v);
  return Object.fromEntries(Object.entries(merged).map(([type, values]) => [type, [...values].sort()])) as Identity;
}

export async function beginLogPass(rt: Runtime, opts: { force?: boolean; now?: Date } = {}): Promise<PassStart> {
  const settings = rt.config.settings.logPass;
  const now = opts.now ?? rt.clock.now();
  const doc = DynamoDBDocumentClient.from(rt.dynamodb, { marshallOptions: { removeUndefinedValues: true } });
  const current = (await doc.send(new GetCommand({ TableName: rt.ledger.table, Key: CURRENT_KEY, ConsistentRead: true }))).Item;
  const queue = (await queuedLogErasures(rt)).filter((e) => e.status !== 'done');
  // Counted on the real clock: a deadline passed is passed, whatever date the pass decides as of.
  const base = { bucket: rt.workspace.bucket, maxConcurrency: settings.maxConcurrency, queue: logQueueCounts(queue, rt.clock.now()) };
  if (current?.status === 'running') {
    const pass = await rt.workspace.getJson<PassDocument>(passKeys.pass(current.passId as string));
    if (pass) {
      const requests = new Set(Object.values(pass.stores).flatMap((s) => s.requests)).size;
      const subjects = Object.values(pass.stores).reduce((n, s) => n + s.subjects, 0);
      return { ...base, passId: pass.passId, now: pass.now, status: 'resumed', manifestKey: passKeys.manifest(pass.passId), resultsPrefix: passKeys.mapRun(pass.passId), units: pass.units, subjects, requests, postponed: pass.postponed };
    }
  }
  const idle = (status: 'not-due' | 'empty'): PassStart => ({ ...base, passId: null, now: now.toISOString(), status, manifestKey: null, resultsPrefix: null, units: 0, subjects: 0, requests: 0, postponed: 0 });
  if (queue.length === 0) return idle('empty');
  const lastPassAt = current?.finishedAt as string | undefined;
  const intervalOver = !lastPassAt || now.getTime() - new Date(lastPassAt).getTime() >= settings.intervalDays * 86_400_000 - 60_000;
  const deadlineNear = queue.some((e) => new Date(e.dueBy).getTime() - now.getTime() <= settings.deadlineMarginDays * 86_400_000);
  if (!opts.force && !intervalOver && !deadlineNear) return idle('not-due');

  const passId = `${now.toISOString().slice(0, 10).replace(/-/g, '')}-${randomUUID().slice(0, 8)}`;
  const { subjectsByStore, postponed } = await takeSubjects(rt, passId, queue, now, settings.maxSubjects);
  let unitSeq = 0;
  const lines: ManifestLine[] = [];
  const stores: PassDocument['stores'] = {};
  for (const [storeName, subjects] of subjectsByStore) {
    const store = storeNamed(rt, storeName);
    const connector = rt.connectors(store);
    if (!isBatchConnector(connector)) throw new DataMapError(`store ${storeName} (${store.kind}) cannot be erased by the log pass: its connector reads one subject at a time`);
    await rt.workspace.putJson(passKeys.subjects(passId, storeName), subjects);
    const totals = await packUnits(store, connector.listKeys(store, rt.connectorContext()), settings, () => String(++unitSeq).padStart(6, '0'), async (unit: WorkUnit, line) => {
      await rt.workspace.putJson(passKeys.unit(passId, unit.unit), unit);
      lines.push(line);
    });
    stores[storeName] = { subjects: subjects.length, requests: [...new Set(subjects.flatMap((s) => s.requestIds))].sort(), ...totals };
  }
  await rt.workspace.putText(passKeys.manifest(passId), lines.map((l) => JSON.stringify(l)).join('\n') + (lines.length ? '\n' : ''), 'application/jsonl');
  const pass: PassDocument = { passId, startedAt: new Date().toISOString(), now: now.toISOString(), stores, units: lines.length, postponed };
  await rt.workspace.putJson(passKeys.pass(passId), pass);
  await doc.send(new PutCommand({ TableName: rt.ledger.table, Item: { ...CURRENT_KEY, passId, status: 'running', startedAt: pass.startedAt, ...(lastPassAt ? { finishedAt: lastPassAt } : {}) } }));
  const requests = new Set(Object.values(stores).flatMap((s) => s.requests)).size;
  const subjects = Object.values(stores).reduce((n, s) => n + s.subjects, 0);
  rt.logger.info('log-pass.begun', { passId, units: lines.length, subjects, requests, postponed });
  return { ...base, passId, now: pass.now, status: 'started', manifestKey: passKeys.manifest(passId), resultsPrefix: passKeys.mapRun(passId), units: lines.length, subjects, requests, postponed };
}

/** Marks the pass finished, so the next run starts a new one after the interval. */
export async function closeLogPass(rt: Pick<Runtime, 'dynamodb' | 'ledger'>, passId: string, at: string): Promise<void> {
  const doc = DynamoDBDocumentClient.from(rt.dynamodb);
  await doc.send(new PutCommand({ TableName: rt.ledger.table, Item: { ...CURRENT_KEY, passId, status: 'done', finishedAt: at } }));
}

/**
 * The queue's entries grouped by store and subject (two requests of one person are erased
 * once), oldest deadline first, at most `max` subjects; each subject's holds read and its
 * lease taken. An entry whose subject is being erased by a request right now, or whose holds
 * changed since its plan, goes back to the queue for the next pass.
 */
async function takeSubjects(rt: Runtime, passId: string, queue: readonly QueuedLogErasure[], now: Date, max: number) {
  const bySubject = new Map<string, { subjectId: string; entries: QueuedLogErasure[] }>();
  for (const entry of queue) {
    const record = await rt.ledger.getRequest(entry.requestId);
    if (!record) continue;
    // A cancelled request waits: `dsr resume` reopens it, and the next pass then erases its logs.
    if (record.cancelRequested) {
      await markPostponed(rt, entry.store, entry.requestId, 'request-cancelled');
      continue;
    }
    const ref = subjectRef(record.request.subjectId);
    if (!bySubject.has(ref) && bySubject.size >= max) continue;
    const group = bySubject.get(ref) ?? { subjectId: record.request.subjectId, entries: [] };
    group.entries.push(entry);
    bySubject.set(ref, group);
  }
  const subjectsByStore = new Map<string, PassSubject[]>();
  let postponed = 0;
  const leaseId = passLeaseId(passId);
  for (const [ref, { subjectId, entries }] of bySubject) {
    const identities = (await Promise.all([...new Set(entries.map((e) => e.requestId))].map((rid) => rt.workspace.getJson<Identity>(deferredIdentityKey(rid))))).filter((i): i is Identity => i !== undefined);
    const identity = mergeIdentities(identities);
    const holds = await findHoldsForSubject(rt, subjectId, now, identity);
    const storeNames = [...new Set(entries.map((e) => e.store))];
    const seen = await readHoldVersions(rt, subjectId, storeNames);
    for (const storeName of storeNames) {
      const storeEntries = entries.filter((e) => e.store === storeName);
      try {
        if (identities.length === 0) throw new SubjectErasureInProgressError();
        await acquireErasureLease(rt, { subjectId, store: storeName, owner: leaseId, leaseId, seen });
      } catch (err) {
        if (!(err instanceof SubjectErasureInProgressError) && !(err instanceof HoldsChangedError)) throw err;
        const because = identities.length === 0 ? 'identity-missing' : err instanceof HoldsChangedError ? 'holds-changed' : 'subject-erasure-in-progress';
        for (const e of storeEntries) await markPostponed(rt, e.store, e.requestId, because);
        postponed += storeEntries.length;
        continue;
      }
      for (const e of storeEntries) await markTaken(rt, e.store, e.requestId, passId);
      const store = storeNamed(rt, storeName);
      const list = subjectsByStore.get(storeName) ?? [];
      list.push({ ref, subjectId, identity, holds: holds.forStore(store), seen, requestIds: storeEntries.map((e) => e.requestId) });
      subjectsByStore.set(storeName, list);
    }
  }
  return { subjectsByStore, postponed };
}

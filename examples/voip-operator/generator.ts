/**
 * The reference operator's dataset: a Canadian VoIP provider's customers, billing, calls,
 * contacts, devices, media and logs, shaped after the seed privacy policies, generated
 * deterministically from (scale, seed, asOf).
 *
 * Pure: no I/O, no clock, no Math.random. Same options → same bytes for every item, object body
 * and the subjects report. Everything big is produced lazily (generators and streams), so the
 * large scale (≥ 1 GB of logs, optionally one ~1 GB object) runs in bounded memory.
 *
 * Usage: `const ds = generateDataset({ scale: 'small', seed: 42 });` then consume
 * `ds.tableItems()`, `ds.mediaObjects()`, `ds.logObjects()` (each object's `body()`), and call
 * `ds.report()` for subjects.json. Counts are noted while the parts are consumed; `report()`
 * generates (and discards) whatever part was not consumed in full.
 */
import { Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { rngFor, type Rng } from './prng';
import { typedEmail, typedPhone } from './written-forms';
import { pdfBytes, wavBytes } from './media';
import {
  buildSubjects,
  callsOf,
  contactsOf,
  externalNumber,
  DAY,
  HOUR,
  MIN_SUBJECTS,
  NEAR_MISS,
  SPECIAL_SUBJECT_ID,
  YEAR,
  type Call,
  type Contact,
  type ModelParams,
  type Subject,
} from './model';
import { appLines, buildIndex, logContext, newTally, sipLines, type IdentifierIndex, type LogContext, type LogObjectSpec, type ObjectTally } from './logs';
import { TAXES } from './reference-data';

export { SPECIAL_SUBJECT_ID, NEAR_MISS } from './model';
export { APP_LOG_COLUMNS } from './logs';

export const SCALES = ['small', 'medium', 'large'] as const;
export type Scale = (typeof SCALES)[number];
export const DEFAULT_AS_OF = '2026-11-01T00:00:00Z';
export const GENERATOR_VERSION = 1;

/** Where each part of the dataset lives; must agree with datamap.json (a test checks it). */
export const LAYOUT = {
  accounts: { store: 'accounts', table: 'voip-accounts' },
  invoices: { store: 'invoices', table: 'voip-billing' },
  paymentTokens: { store: 'payment-tokens', table: 'voip-payment-tokens' },
  callRecords: { store: 'call-records', table: 'voip-cdrs' },
  contacts: { store: 'contacts', table: 'voip-contacts' },
  devices: { store: 'devices', table: 'voip-devices' },
  consents: { store: 'consents', table: 'voip-consents' },
  recordings: { store: 'call-recordings', bucket: 'voip-media', prefix: 'recordings/' },
  voicemail: { store: 'voicemail', bucket: 'voip-media', prefix: 'voicemail/' },
  fax: { store: 'fax', bucket: 'voip-media', prefix: 'fax/' },
  sipLogs: { store: 'sip-logs', bucket: 'voip-logs', prefix: 'sip/' },
  appLogs: { store: 'app-logs', bucket: 'voip-logs', prefix: 'app/' },
} as const;

export const DYNAMODB_STORES = ['accounts', 'invoices', 'payment-tokens', 'call-records', 'contacts', 'devices', 'consents'] as const;
export const MEDIA_STORES = ['call-recordings', 'voicemail', 'fax'] as const;
export const LOG_STORES = ['sip-logs', 'app-logs'] as const;
export type DynamoStoreName = (typeof DYNAMODB_STORES)[number];
export type MediaStoreName = (typeof MEDIA_STORES)[number];
export type LogStoreName = (typeof LOG_STORES)[number];

export interface ScaleProfile {
  readonly subjects: number;
  /** Days of logs kept, ending at asOf (at least 2: the fixed scenarios need them). */
  readonly logDays: number;
  readonly sipBytesPerHour: number;
  readonly appBytesPerDay: number;
  /** The most recent days of portal logs are plain CSV; older days are gzip. */
  readonly plainAppLogDays: number;
  readonly callsPerYear: readonly [number, number];
  readonly contacts: readonly [number, number];
  readonly maxRecordings: number;
  readonly maxVoicemails: number;
  readonly maxFaxes: number;
}

export const PROFILES: Readonly<Record<Scale, ScaleProfile>> = {
  small: { subjects: 20, logDays: 4, sipBytesPerHour: 24_000, appBytesPerDay: 150_000, plainAppLogDays: 2, callsPerYear: [8, 30], contacts: [2, 8], maxRecordings: 3, maxVoicemails: 3, maxFaxes: 2 },
  medium: { subjects: 200, logDays: 10, sipBytesPerHour: 140_000, appBytesPerDay: 1_000_000, plainAppLogDays: 2, callsPerYear: [15, 100], contacts: [2, 15], maxRecordings: 5, maxVoicemails: 4, maxFaxes: 3 },
  large: { subjects: 2000, logDays: 30, sipBytesPerHour: 1_450_000, appBytesPerDay: 4_000_000, plainAppLogDays: 3, callsPerYear: [10, 80], contacts: [2, 20], maxRecordings: 6, maxVoicemails: 5, maxFaxes: 3 },
};

export class DatasetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DatasetError';
  }
}

export function scaleProfile(scale: string): ScaleProfile {
  if (!(SCALES as readonly string[]).includes(scale)) {
    throw new DatasetError(`unknown scale "${scale}": expected one of ${SCALES.join(', ')}`);
  }
  return PROFILES[scale as Scale];
}

export interface GenerateOptions {
  readonly scale: Scale | string;
  readonly seed: number | string;
  /** The dataset's "now": every date is relative to it. Default 2026-11-01T00:00:00Z. */
  readonly asOf?: string | Date;
  /** Override the scale's number of customers (at least 13). */
  readonly subjects?: number;
  /** Override the scale's total uncompressed log bytes (SIP and portal logs keep their ratio). */
  readonly logBytes?: number;
  /**
   * Add one SIP log object of about this many uncompressed bytes (a consolidated day under
   * `sip/archive/`), for memory benchmarks: 1e9 gives a ~1 GB object, generated as a stream.
   */
  readonly hugeLogObjectBytes?: number;
  /** gzip level of compressed log objects (default 6). */
  readonly gzipLevel?: number;
}

export interface DatasetParams extends ModelParams {
  readonly scale: Scale;
  readonly seedInput: number | string;
  readonly asOfIso: string;
  readonly profile: ScaleProfile;
  readonly sipBytesPerHour: number;
  readonly appBytesPerDay: number;
  readonly hugeLogObjectBytes: number;
  readonly gzipLevel: number;
  readonly logFrom: number;
  readonly logTo: number;
}

export interface TableItem {
  readonly store: DynamoStoreName;
  readonly table: string;
  readonly item: Record<string, unknown>;
}

export type MediaVersion =
  | { readonly deleteMarker: false; readonly body: Buffer; readonly legalHold: boolean; readonly metadata: Readonly<Record<string, string>> }
  | { readonly deleteMarker: true };

export interface MediaObject {
  readonly store: MediaStoreName;
  readonly bucket: string;
  readonly key: string;
  readonly accountId: string;
  readonly contentType: string;
  /** Oldest first: put them in this order; a delete marker is a DeleteObject without version id. */
  readonly versions: readonly MediaVersion[];
}

export interface LogObject {
  readonly store: LogStoreName;
  readonly bucket: string;
  readonly key: string;
  readonly format: 'jsonl' | 'csv';
  readonly compression: 'gzip' | 'none';
  readonly contentType: string;
  /** About how many uncompressed bytes `lines()` yields (the generator stops at the first record past it). */
  readonly approxBytes: number;
  /** The uncompressed text, in chunks of whole lines. */
  lines(): Generator<string>;
  /** The object's bytes as stored: gzip of `lines()`, or `lines()` as UTF-8. */
  body(): Readable;
}

interface Counter {
  [store: string]: Record<string, Int32Array>;
}

function counters(stores: readonly string[], fields: readonly string[], n: number): Counter {
  const c: Counter = {};
  for (const s of stores) {
    c[s] = {};
    for (const f of fields) c[s][f] = new Int32Array(n);
  }
  return c;
}

const isoDate = (t: number) => new Date(t).toISOString();
const round2 = (v: number) => Math.round(v * 100) / 100;

function parseAsOf(asOf: string | Date | undefined): number {
  const t = asOf === undefined ? Date.parse(DEFAULT_AS_OF) : asOf instanceof Date ? asOf.getTime() : Date.parse(asOf);
  if (!Number.isFinite(t)) throw new DatasetError(`asOf must be an ISO 8601 date-time, got ${JSON.stringify(String(asOf))}`);
  return t;
}

export function resolveParams(opts: GenerateOptions): DatasetParams {
  const profile = scaleProfile(String(opts.scale));
  if (opts.seed === undefined || opts.seed === null || (typeof opts.seed === 'number' && !Number.isFinite(opts.seed)) || String(opts.seed) === '') {
    throw new DatasetError('seed must be a finite number or a non-empty string');
  }
  const asOf = parseAsOf(opts.asOf);
  const subjects = opts.subjects ?? profile.subjects;
  if (!Number.isInteger(subjects) || subjects < MIN_SUBJECTS || subjects > 100_000) {
    throw new DatasetError(`subjects must be an integer from ${MIN_SUBJECTS} to 100000, got ${subjects}`);
  }
  const defaultLogBytes = profile.logDays * 24 * profile.sipBytesPerHour + profile.logDays * profile.appBytesPerDay;
  if (opts.logBytes !== undefined && (!(opts.logBytes >= 0) || !Number.isFinite(opts.logBytes))) throw new DatasetError('logBytes must be a number >= 0');
  const factor = opts.logBytes === undefined ? 1 : opts.logBytes / defaultLogBytes;
  const huge = opts.hugeLogObjectBytes ?? 0;
  if (!(huge >= 0) || !Number.isFinite(huge)) throw new DatasetError('hugeLogObjectBytes must be a number >= 0');
  const gzipLevel = opts.gzipLevel ?? 6;
  if (!Number.isInteger(gzipLevel) || gzipLevel < 1 || gzipLevel > 9) throw new DatasetError('gzipLevel must be an integer from 1 to 9');
  const logTo = Math.floor(asOf / HOUR) * HOUR;
  const logFrom = logTo - profile.logDays * DAY;
  return {
    scale: String(opts.scale) as Scale,
    seed: String(opts.seed),
    seedInput: opts.seed,
    asOf,
    asOfIso: isoDate(asOf),
    subjects,
    callsPerYear: profile.callsPerYear,
    contacts: profile.contacts,
    profile,
    sipBytesPerHour: Math.round(profile.sipBytesPerHour * factor),
    appBytesPerDay: Math.round(profile.appBytesPerDay * factor),
    hugeLogObjectBytes: huge,
    gzipLevel,
    logFrom,
    logTo,
  };
}

export function generateDataset(opts: GenerateOptions): ReferenceDataset {
  return new ReferenceDataset(resolveParams(opts));
}

const ymd = (t: number) => {
  const d = new Date(t).toISOString();
  return { y: d.slice(0, 4), m: d.slice(5, 7), d: d.slice(8, 10), h: d.slice(11, 13) };
};

export class ReferenceDataset {
  readonly subjects: readonly Subject[];
  readonly index: IdentifierIndex;
  private tableCounts?: Counter;
  private tableTotals?: Record<string, number>;
  private mediaCounts?: Counter;
  private mediaTotals?: Record<string, Record<string, number>>;
  private readonly logTallies = new Map<string, ObjectTally>();
  private logCtx?: LogContext;
  private specs?: LogObjectSpec[];

  constructor(readonly params: DatasetParams) {
    this.subjects = buildSubjects(params);
    this.index = buildIndex(this.subjects);
  }

  /** Every item of every table, table by table. */
  *tableItems(): Generator<TableItem> {
    const n = this.subjects.length;
    const counts = counters(DYNAMODB_STORES, ['owner', 'thirdParty'], n);
    const totals: Record<string, number> = Object.fromEntries(DYNAMODB_STORES.map((s) => [s, 0]));
    const emit = (store: DynamoStoreName, table: string, owner: number, item: Record<string, unknown>, mentions: Iterable<number> = []): TableItem => {
      counts[store].owner[owner]++;
      for (const m of new Set(mentions)) if (m !== owner) counts[store].thirdParty[m]++;
      totals[store]++;
      return { store, table, item };
    };
    const p = this.params;
    for (const s of this.subjects) yield emit('accounts', LAYOUT.accounts.table, s.index, this.accountItem(s));
    for (const s of this.subjects) for (const item of this.consentItems(s)) yield emit('consents', LAYOUT.consents.table, s.index, item);
    for (const s of this.subjects) for (const item of this.deviceItems(s)) yield emit('devices', LAYOUT.devices.table, s.index, item);
    for (const s of this.subjects) for (const item of this.paymentTokenItems(s)) yield emit('payment-tokens', LAYOUT.paymentTokens.table, s.index, item);
    for (const s of this.subjects) for (const item of this.invoiceItems(s)) yield emit('invoices', LAYOUT.invoices.table, s.index, item);
    for (const s of this.subjects) {
      // Its own stream: how numbers and addresses are typed moves no other draw of the dataset.
      const forms = rngFor(p.seed, 'contact-forms', s.index);
      for (const c of contactsOf(p, this.subjects, s.index)) {
        const mentions: number[] = [];
        const byPhone = this.index.phone.get(c.contactPhone);
        if (byPhone !== undefined) mentions.push(byPhone);
        const byEmail = c.contactEmail ? this.index.email.get(c.contactEmail) : undefined;
        if (byEmail !== undefined) mentions.push(byEmail);
        yield emit('contacts', LAYOUT.contacts.table, s.index, this.contactItem(c, forms), mentions);
      }
    }
    for (const s of this.subjects) {
      const calls = callsOf(p, this.subjects, s.index);
      const recorded = new Set(this.recordedCalls(s, calls).map((c) => c.callId));
      for (const c of calls) {
        const own = this.cdrItem(c, recorded.has(c.callId));
        yield emit('call-records', LAYOUT.callRecords.table, s.index, own, this.partyMentions(own));
        if (c.other !== undefined) {
          const leg = this.calleeLeg(c);
          yield emit('call-records', LAYOUT.callRecords.table, c.other, leg, this.partyMentions(leg));
        }
      }
    }
    this.tableCounts = counts;
    this.tableTotals = totals;
  }

  /**
   * A contact card as the portal stores it: the number and address as the customer typed them
   * (the model keeps their canonical forms), and the lower-cased copy of the address the portal
   * writes for look-ups (`contactEmailNormalized`, keyed by the by-contact-email-normalized
   * index). The near-miss cards keep their exact text.
   */
  private contactItem(c: Contact, forms: Rng): Record<string, unknown> {
    const nearMiss = c.contactPhone === NEAR_MISS.phone || c.contactPhone === NEAR_MISS.phoneLonger;
    const email = c.contactEmail;
    const exactEmail = email === NEAR_MISS.email || email === NEAR_MISS.emailLonger;
    return {
      ...c,
      contactPhone: nearMiss ? c.contactPhone : typedPhone(c.contactPhone, forms),
      ...(email ? { contactEmail: exactEmail ? email : typedEmail(email, forms), contactEmailNormalized: email.toLowerCase() } : {}),
      createdAt: isoDate(c.createdAt),
    };
  }

  /** The customers a call record names by number, as caller or callee (the owner is dropped by `emit`). */
  private partyMentions(item: Record<string, unknown>): number[] {
    const out: number[] = [];
    for (const n of [item.callerNumber, item.calleeNumber]) {
      const m = this.index.phone.get(n as string);
      if (m !== undefined && !out.includes(m)) out.push(m);
    }
    return out;
  }

  private accountItem(s: Subject): Record<string, unknown> {
    const rng = rngFor(this.params.seed, 'account', s.index);
    return {
      accountId: s.accountId,
      accountNumber: s.accountNumber,
      status: s.deactivatedAt !== undefined ? 'deactivated' : 'active',
      firstName: s.firstName,
      lastName: s.lastName,
      fullName: s.fullName,
      ...(s.businessName ? { businessName: s.businessName } : {}),
      email: s.email,
      phoneNumbers: [...s.phones],
      sipUsername: s.sipUsername,
      language: s.language,
      address: { ...s.address },
      plan: s.plan.code,
      planName: s.plan.name,
      recordingEnabled: s.recordingEnabled,
      marketingConsent: s.marketingConsent,
      // The portal's other opt-ins, as a map: consent.analytics, consent.targetedAdvertising.
      consent: { ...this.consentChoices(s) },
      createdAt: isoDate(s.createdAt),
      ...(s.deactivatedAt !== undefined
        ? {
            deactivatedAt: isoDate(s.deactivatedAt),
            deactivationReason: s.fraudInvestigation ? 'suspended-fraud' : rng.pick(['customer-request', 'moved', 'non-payment', 'switched-provider']),
            // The contract ends when the service is deactivated: recordings' 6 months count from here.
            terminatedAt: isoDate(s.deactivatedAt),
          }
        : {}),
      fraudInvestigation: s.fraudInvestigation,
      ...(s.fraudInvestigation ? { fraudCaseId: `FR-${2020 + rng.int(3, 6)}-${rng.int(100, 999)}` } : {}),
    };
  }

  /**
   * The opt-ins besides marketing, from a stream of their own (no other draw of the dataset
   * moves): analytics and targeted advertising.
   */
  private consentChoices(s: Subject): { analytics: boolean; targetedAdvertising: boolean } {
    const rng = rngFor(this.params.seed, 'consent', s.index);
    return { analytics: rng.chance(0.6), targetedAdvertising: rng.chance(0.3) };
  }

  /**
   * The consent table: one item per account and purpose the customer was asked about, with the
   * answer, when and where. Marketing is asked at signup; targeted advertising only of those
   * who opted in to it in the portal (the account's `consent.targetedAdvertising`).
   */
  private consentItems(s: Subject): Record<string, unknown>[] {
    const rng = rngFor(this.params.seed, 'consent-records', s.index);
    const at = (from: number) => isoDate(from + Math.floor(rng.next() * Math.max(1, s.activeUntil - from) * 0.5));
    const items: Record<string, unknown>[] = [
      { accountId: s.accountId, purpose: 'marketing', status: s.marketingConsent ? 'granted' : 'withdrawn', channel: 'signup', recordedAt: isoDate(s.createdAt) },
    ];
    if (this.consentChoices(s).targetedAdvertising) items.push({ accountId: s.accountId, purpose: 'targeted-advertising', status: 'granted', channel: 'portal', recordedAt: at(s.createdAt) });
    return items;
  }

  private deviceItems(s: Subject): Record<string, unknown>[] {
    const rng = rngFor(this.params.seed, 'devices', s.index);
    return s.devices.map((d) => ({
      accountId: s.accountId,
      deviceId: d.deviceId,
      vendor: d.model.vendor,
      model: d.model.model,
      kind: d.model.kind,
      ...(d.mac ? { mac: d.mac } : {}),
      firmware: d.firmware,
      userAgent: d.userAgent,
      lastIp: d.ip,
      registeredAt: isoDate(d.registeredAt),
      lastSeenAt: isoDate(d.lastSeenAt),
      provisioning: d.mac ? rng.pick(['auto', 'auto', 'manual']) : 'qr-code',
    }));
  }

  private paymentTokenItems(s: Subject): Record<string, unknown>[] {
    const rng = rngFor(this.params.seed, 'tokens', s.index);
    const count = rng.weighted([[1, 0.7], [2, 0.25], [3, 0.05]] as const);
    const out: Record<string, unknown>[] = [];
    for (let k = 0; k < count; k++) {
      const createdAt = s.createdAt + Math.floor(((s.activeUntil - s.createdAt) * k) / count) + rng.int(0, 5) * DAY;
      const expYear = new Date(createdAt).getUTCFullYear() + rng.int(2, 5);
      const latest = k === count - 1;
      out.push({
        accountId: s.accountId,
        tokenId: `tok_${rng.hex(16)}`,
        processor: rng.pick(['moneris', 'moneris', 'stripe']),
        processorToken: `pm_${rng.hex(24)}`,
        brand: rng.weighted([['visa', 50], ['mastercard', 38], ['amex', 12]] as const),
        last4: String(rng.int(0, 9999)).padStart(4, '0'),
        expMonth: rng.int(1, 12),
        expYear,
        cardholderName: s.fullName.toUpperCase(),
        isDefault: latest,
        status: latest && s.deactivatedAt === undefined ? 'active' : 'inactive',
        createdAt: isoDate(createdAt),
      });
    }
    return out;
  }

  private *invoiceItems(s: Subject): Generator<Record<string, unknown>> {
    const rng = rngFor(this.params.seed, 'invoices', s.index);
    const first = new Date(s.createdAt);
    let y = first.getUTCFullYear();
    let m = first.getUTCMonth() + 1; // the month after creation (0-based + 1)
    const taxes = TAXES[s.city.province as keyof typeof TAXES];
    for (;;) {
      if (m > 11) {
        m = 0;
        y++;
      }
      const date = Date.UTC(y, m, 1);
      if (date >= s.activeUntil + 31 * DAY || date > this.params.asOf) break;
      const periodStart = Date.UTC(y, m - 1, 1);
      const longDistance = round2(rng.chance(0.4) ? rng.next() * 12 : 0);
      const fraud = s.fraudInvestigation && s.deactivatedAt !== undefined && date > s.deactivatedAt - 62 * DAY;
      const lines: Array<{ description: string; amount: number }> = [{ description: s.plan.name, amount: s.plan.monthly }];
      if (longDistance > 0) lines.push({ description: 'Long distance', amount: longDistance });
      if (fraud) lines.push({ description: 'International calls', amount: round2(400 + rng.next() * 2600) });
      if (s.plan.code === 'BIZ-3') lines.push({ description: '911 service fee', amount: 0.75 * 3 });
      const subtotal = round2(lines.reduce((a, l) => a + l.amount, 0));
      const taxLines = taxes.map((t) => ({ name: t.name, rate: t.rate, amount: round2(subtotal * t.rate) }));
      const total = round2(subtotal + taxLines.reduce((a, t) => a + t.amount, 0));
      const recent = date > this.params.asOf - 40 * DAY;
      const status = fraud ? 'in-collections' : recent && rng.chance(0.3) ? 'unpaid' : 'paid';
      yield {
        accountId: s.accountId,
        invoiceId: `INV-${s.accountNumber}-${y}${String(m + 1).padStart(2, '0')}`,
        invoiceDate: isoDate(date).slice(0, 10),
        periodStart: isoDate(periodStart).slice(0, 10),
        periodEnd: isoDate(date - DAY).slice(0, 10),
        billingName: s.businessName ?? s.fullName,
        billingAddress: { ...s.address },
        lines,
        subtotal,
        taxes: taxLines,
        total,
        currency: 'CAD',
        status,
        ...(status === 'paid' ? { paidAt: isoDate(date + rng.int(1, 20) * DAY) } : {}),
      };
      m++;
    }
  }

  private cdrItem(c: Call, recorded: boolean): Record<string, unknown> {
    const s = this.subjects[c.subject];
    const billed = c.durationSeconds === 0 ? 0 : Math.ceil(c.durationSeconds / 6) * 6;
    const rate = c.route === 'on-net' || c.direction === 'inbound' ? 0 : c.international ? (c.otherNumber.startsWith('+44') ? 0.35 : 1.2) : 0.01;
    return {
      accountId: s.accountId,
      callId: c.callId,
      direction: c.direction,
      callerNumber: c.direction === 'outbound' ? c.ownNumber : c.otherNumber,
      calleeNumber: c.direction === 'outbound' ? c.otherNumber : c.ownNumber,
      startTime: isoDate(c.start),
      startShard: startShard(c.callId),
      endTime: isoDate(c.start + c.durationSeconds * 1000),
      durationSeconds: c.durationSeconds,
      billedSeconds: billed,
      disposition: c.disposition,
      route: c.route,
      costCad: round2((billed / 60) * rate),
      deviceId: s.devices[Math.min(c.device, s.devices.length - 1)].deviceId,
      recorded,
    };
  }

  /** The callee's own record of an on-net call. */
  private calleeLeg(c: Call): Record<string, unknown> {
    const o = this.subjects[c.other!];
    return {
      accountId: o.accountId,
      callId: c.callId,
      direction: 'inbound',
      callerNumber: c.ownNumber,
      calleeNumber: c.otherNumber,
      startTime: isoDate(c.start),
      startShard: startShard(c.callId),
      endTime: isoDate(c.start + c.durationSeconds * 1000),
      durationSeconds: c.durationSeconds,
      billedSeconds: 0,
      disposition: c.disposition,
      route: 'on-net',
      costCad: 0,
      deviceId: o.devices[0].deviceId,
      recorded: false,
    };
  }

  /** Calls that have a recording: the last answered calls of the recording window. */
  private recordedCalls(s: Subject, calls: readonly Call[]): Call[] {
    if (!s.recordingEnabled) return [];
    const from = s.activeUntil - 180 * DAY;
    return calls.filter((c) => c.disposition === 'ANSWERED' && c.start >= from).slice(-this.params.profile.maxRecordings);
  }

  /** Every media object with its versions, subject by subject. */
  *mediaObjects(): Generator<MediaObject> {
    const n = this.subjects.length;
    const counts = counters(MEDIA_STORES, ['objects', 'versions', 'deleteMarkers', 'legalHolds', 'current'], n);
    const totals: Record<string, Record<string, number>> = Object.fromEntries(MEDIA_STORES.map((s) => [s, { objects: 0, versions: 0, deleteMarkers: 0, legalHolds: 0, bytes: 0 }]));
    const note = (o: MediaObject, owner: number): MediaObject => {
      const c = counts[o.store];
      const t = totals[o.store];
      c.objects[owner]++;
      t.objects++;
      for (const v of o.versions) {
        if (v.deleteMarker) {
          c.deleteMarkers[owner]++;
          t.deleteMarkers++;
        } else {
          c.versions[owner]++;
          t.versions++;
          t.bytes += v.body.length;
          if (v.legalHold) {
            c.legalHolds[owner]++;
            t.legalHolds++;
          }
        }
      }
      if (!o.versions[o.versions.length - 1].deleteMarker) c.current[owner]++;
      return o;
    };
    const p = this.params;
    for (const s of this.subjects) {
      const rng = rngFor(p.seed, 'media', s.index);
      const calls = callsOf(p, this.subjects, s.index);
      const version = (seconds: number, legalHold: boolean, metadata: Record<string, string>): MediaVersion => ({ deleteMarker: false, body: wavBytes(rng, seconds), legalHold, metadata });
      for (const c of this.recordedCalls(s, calls)) {
        const { y, m } = ymd(c.start);
        const held = s.legalHold === 'recordings';
        const meta = { 'call-id': c.callId, 'duration-seconds': String(c.durationSeconds) };
        const versions: MediaVersion[] = [version(0.25 + rng.next() * 0.5, held, meta)];
        if (rng.chance(0.15)) versions.push(version(0.25 + rng.next() * 0.5, held, { ...meta, transcoded: 'true' }));
        if (!held && rng.chance(0.08)) versions.push({ deleteMarker: true });
        yield note({ store: 'call-recordings', bucket: LAYOUT.recordings.bucket, key: `recordings/${s.accountId}/${y}/${m}/${c.callId}.wav`, accountId: s.accountId, contentType: 'audio/wav', versions }, s.index);
      }
      const vmFrom = s.activeUntil - 120 * DAY;
      const voicemails = calls.filter((c) => c.disposition === 'VOICEMAIL' && c.start >= vmFrom).slice(-p.profile.maxVoicemails);
      for (const c of voicemails) {
        const stamp = isoDate(c.start).replace(/[-:]/g, '').slice(0, 15);
        const meta = { 'call-id': c.callId };
        const versions: MediaVersion[] = [];
        if (s.legalHold === 'voicemail' && c.scripted) {
          // Litigation hold on a message the customer has since deleted: the held version
          // is noncurrent, under a delete marker.
          versions.push(version(0.3, true, meta), { deleteMarker: true });
        } else {
          versions.push(version(0.2 + rng.next() * 0.4, false, meta));
          if (rng.chance(0.12)) versions.push(version(0.2 + rng.next() * 0.4, false, { ...meta, transcoded: 'true' }));
          if (rng.chance(0.2)) versions.push({ deleteMarker: true });
          // Now and then a message is restored after deletion: a version above the marker.
          if (versions[versions.length - 1].deleteMarker && rng.chance(0.25)) versions.push(version(0.2, false, { ...meta, restored: 'true' }));
        }
        yield note({ store: 'voicemail', bucket: LAYOUT.voicemail.bucket, key: `voicemail/${s.accountId}/INBOX/${stamp}-${c.callId.slice(0, 8)}.wav`, accountId: s.accountId, contentType: 'audio/wav', versions }, s.index);
      }
      const faxCount = s.plan.code === 'BIZ-3' ? rng.int(1, p.profile.maxFaxes) : rng.chance(0.12) ? rng.int(1, p.profile.maxFaxes) : 0;
      for (let k = 0; k < faxCount; k++) {
        const at = Math.max(s.createdAt, s.activeUntil - YEAR) + Math.floor(rng.next() * Math.min(YEAR, s.activeUntil - s.createdAt));
        const inbound = rng.chance(0.6);
        const other = externalNumber(rng);
        const own = s.phones[s.phones.length - 1];
        const body = pdfBytes([
          'FAX TRANSMISSION',
          `From: ${inbound ? other : own}`,
          `To: ${inbound ? own : other}`,
          `Date: ${isoDate(at)}`,
          `Attn: ${s.businessName ?? s.fullName}`,
          'Pages: 1',
          inbound ? 'Re: Soumission / Quote #' + rng.int(1000, 9999) : 'Re: Signed agreement',
        ]);
        const versions: MediaVersion[] = [{ deleteMarker: false, body, legalHold: false, metadata: { pages: '1', direction: inbound ? 'inbound' : 'outbound' } }];
        if (rng.chance(0.1)) versions.push({ deleteMarker: true });
        const key = `fax/${s.accountId}/${inbound ? 'inbound' : 'outbound'}/${isoDate(at).slice(0, 10)}-${rng.hex(6)}.pdf`;
        yield note({ store: 'fax', bucket: LAYOUT.fax.bucket, key, accountId: s.accountId, contentType: 'application/pdf', versions }, s.index);
      }
    }
    this.mediaCounts = counts;
    this.mediaTotals = totals;
  }

  private logSpecs(): LogObjectSpec[] {
    if (this.specs) return this.specs;
    const p = this.params;
    const specs: LogObjectSpec[] = [];
    const hours = p.profile.logDays * 24;
    // The truncated lines go into the hour of the scripted on-net call, so one of them still
    // shows two customers' numbers.
    const scripted = callsOf(p, this.subjects, 9).find((c) => c.scripted?.startsWith('on-net'));
    const malformedHour = scripted ? Math.floor((scripted.start - p.logFrom) / HOUR) : Math.floor(hours / 2);
    for (let h = 0; h < hours; h++) {
      const from = p.logFrom + h * HOUR;
      const { y, m, d, h: hh } = ymd(from);
      specs.push({ store: 'sip-logs', key: `sip/${y}/${m}/${d}/${hh}00.jsonl.gz`, format: 'jsonl', compression: 'gzip', slices: [{ from, to: from + HOUR, bytes: p.sipBytesPerHour }], malformed: h === malformedHour });
    }
    if (p.hugeLogObjectBytes > 0) {
      const from = p.logFrom - DAY;
      const { y, m, d } = ymd(from);
      const slices = [];
      for (let k = 0; k < 1440; k++) slices.push({ from: from + k * 60_000, to: from + (k + 1) * 60_000, bytes: p.hugeLogObjectBytes / 1440 });
      specs.push({ store: 'sip-logs', key: `sip/archive/${y}/${m}/${d}/sbc-all-day.jsonl.gz`, format: 'jsonl', compression: 'gzip', slices });
    }
    for (let day = 0; day < p.profile.logDays; day++) {
      const from = p.logFrom + day * DAY;
      const { y, m, d } = ymd(from);
      const gzip = day < p.profile.logDays - p.profile.plainAppLogDays;
      specs.push({
        store: 'app-logs',
        key: `app/${y}/${m}/${d}/portal.csv${gzip ? '.gz' : ''}`,
        format: 'csv',
        compression: gzip ? 'gzip' : 'none',
        slices: [{ from, to: from + DAY, bytes: p.appBytesPerDay }],
        scripted: day === 0 || day === p.profile.logDays - 1,
      });
    }
    this.specs = specs;
    return specs;
  }

  private logContext(): LogContext {
    if (!this.logCtx) {
      const p = this.params;
      const from = p.hugeLogObjectBytes > 0 ? p.logFrom - DAY : p.logFrom;
      this.logCtx = logContext(p, this.subjects, this.index, from, p.logTo, (i) => callsOf(p, this.subjects, i));
    }
    return this.logCtx;
  }

  /** The log objects (SIP hour by hour, then portal day by day); each body is generated on demand. */
  logObjects(): LogObject[] {
    return this.logSpecs().map((spec) => this.logObject(spec));
  }

  private logObject(spec: LogObjectSpec): LogObject {
    const layout = spec.store === 'sip-logs' ? LAYOUT.sipLogs : LAYOUT.appLogs;
    const getContext = () => this.logContext();
    const tallies = this.logTallies;
    const lines = function* (): Generator<string> {
      const tally = newTally();
      const ctx = getContext();
      yield* spec.format === 'jsonl' ? sipLines(ctx, spec, tally) : appLines(ctx, spec, tally);
      tallies.set(spec.key, tally);
    };
    const gzipLevel = this.params.gzipLevel;
    return {
      store: spec.store,
      bucket: layout.bucket,
      key: spec.key,
      format: spec.format,
      compression: spec.compression,
      contentType: spec.compression === 'gzip' ? 'application/gzip' : spec.format === 'jsonl' ? 'application/x-ndjson' : 'text/csv; charset=utf-8',
      approxBytes: spec.slices.reduce((a, s) => a + s.bytes, 0),
      lines,
      body: () => {
        const text = Readable.from(lines(), { objectMode: false });
        return spec.compression === 'gzip' ? text.pipe(createGzip({ level: gzipLevel })) : text;
      },
    };
  }

  /** subjects.json: identifiers, flags and expected counts per subject. */
  report(): SubjectsReport {
    if (!this.tableCounts) for (const _ of this.tableItems());
    if (!this.mediaCounts) for (const _ of this.mediaObjects());
    for (const o of this.logObjects()) if (!this.logTallies.has(o.key)) for (const _ of o.lines());
    const p = this.params;
    const n = this.subjects.length;
    const logCounts = counters(LOG_STORES, ['records', 'objects'], n);
    const logTotals: Record<string, { objects: number; records: number; uncompressedBytes: number }> = Object.fromEntries(LOG_STORES.map((s) => [s, { objects: 0, records: 0, uncompressedBytes: 0 }]));
    const malformed: SubjectsReport['malformed'] = [];
    for (const spec of this.logSpecs()) {
      const tally = this.logTallies.get(spec.key)!;
      const t = logTotals[spec.store];
      t.objects++;
      t.records += tally.records;
      t.uncompressedBytes += tally.bytes;
      for (const [i, count] of tally.perSubject) {
        logCounts[spec.store].records[i] += count;
        logCounts[spec.store].objects[i]++;
      }
      if (tally.malformedLines.length > 0) {
        malformed.push({
          store: spec.store,
          bucket: spec.store === 'sip-logs' ? LAYOUT.sipLogs.bucket : LAYOUT.appLogs.bucket,
          key: spec.key,
          lines: [...tally.malformedLines],
          mentions: [...tally.malformedMentions].sort((a, b) => a - b).map((i) => this.subjects[i].accountId),
        });
      }
    }
    const subjects = this.subjects.map((s): SubjectEntry => {
      const expected: SubjectEntry['expected'] = {} as SubjectEntry['expected'];
      for (const store of DYNAMODB_STORES) expected[store] = { owner: this.tableCounts![store].owner[s.index], thirdParty: this.tableCounts![store].thirdParty[s.index] };
      for (const store of MEDIA_STORES) {
        const c = this.mediaCounts![store];
        expected[store] = { objects: c.objects[s.index], versions: c.versions[s.index], deleteMarkers: c.deleteMarkers[s.index], legalHolds: c.legalHolds[s.index], current: c.current[s.index] };
      }
      for (const store of LOG_STORES) expected[store] = { records: logCounts[store].records[s.index], objects: logCounts[store].objects[s.index] };
      const legalHolds = MEDIA_STORES.reduce((a, st) => a + this.mediaCounts![st].legalHolds[s.index], 0);
      return {
        subjectId: s.accountId,
        identifiers: {
          subjectId: [s.accountId],
          accountId: [s.accountId],
          email: [s.email],
          phone: [...s.phones],
          sipUsername: [s.sipUsername],
          deviceId: s.devices.map((d) => d.deviceId),
          ip: [...new Set(s.devices.map((d) => d.ip))],
        },
        flags: {
          status: s.deactivatedAt !== undefined ? 'deactivated' : 'active',
          deactivated: s.deactivatedAt !== undefined,
          deactivatedAt: s.deactivatedAt !== undefined ? isoDate(s.deactivatedAt) : null,
          deactivatedOverTwoYearsAgo: s.deactivatedAt !== undefined && s.deactivatedAt < p.asOf - 2 * YEAR,
          fraudInvestigation: s.fraudInvestigation,
          legalHeldMedia: legalHolds > 0,
          recordingEnabled: s.recordingEnabled,
          specialCharacters: s.accountId === SPECIAL_SUBJECT_ID,
        },
        expected,
      };
    });
    const tableTotals = this.tableTotals!;
    return {
      format: 'subject-rights-orchestrator/reference-dataset',
      version: 1,
      generatorVersion: GENERATOR_VERSION,
      operator: 'Reference VoIP operator (Canada)',
      seed: p.seedInput,
      scale: p.scale,
      asOf: p.asOfIso,
      options: {
        subjects: p.subjects,
        logDays: p.profile.logDays,
        logFrom: isoDate(p.logFrom),
        logTo: isoDate(p.logTo),
        sipBytesPerHour: p.sipBytesPerHour,
        appBytesPerDay: p.appBytesPerDay,
        hugeLogObjectBytes: p.hugeLogObjectBytes,
        gzipLevel: p.gzipLevel,
      },
      definitions: DEFINITIONS,
      totals: {
        ...(Object.fromEntries(DYNAMODB_STORES.map((st) => [st, { items: tableTotals[st] }])) as Record<DynamoStoreName, { items: number }>),
        ...(this.mediaTotals as Record<MediaStoreName, { objects: number; versions: number; deleteMarkers: number; legalHolds: number; bytes: number }>),
        ...(logTotals as Record<LogStoreName, { objects: number; records: number; uncompressedBytes: number }>),
      },
      subjects,
      nearMisses: this.nearMisses(),
      malformed,
    };
  }

  private nearMisses(): NearMiss[] {
    const s = this.subjects;
    const prefixed = s.filter((x) => x.accountId !== 'cust-1' && x.accountId.startsWith('cust-1')).map((x) => x.accountId);
    return [
      { type: 'accountId', value: 'cust-1', near: 'cust-10', subjects: ['cust-1', 'cust-10'], nearIn: ['accounts', 'call-records', 'devices', 'app-logs'], note: `"cust-1" is a prefix of ${prefixed.length} other account ids` },
      { type: 'accountId', value: 'cust-1', near: SPECIAL_SUBJECT_ID, subjects: ['cust-1', SPECIAL_SUBJECT_ID], nearIn: ['accounts', 'devices', 'app-logs'], note: 'an account id made of regex and glob metacharacters that starts with "cust-1"' },
      { type: 'phone', value: NEAR_MISS.phone, near: NEAR_MISS.phoneLonger, subjects: [s[0].accountId], nearIn: ['call-records', 'contacts', 'sip-logs'], note: 'a misdialled number one digit longer than a customer number' },
      { type: 'email', value: NEAR_MISS.email, near: NEAR_MISS.emailLonger, subjects: [s[1].accountId, s[2].accountId], nearIn: ['accounts', 'contacts', 'app-logs'], note: 'one address is the tail of another' },
      { type: 'ip', value: NEAR_MISS.ip, near: NEAR_MISS.ipLonger, subjects: [s[0].accountId, s[10].accountId], nearIn: ['devices', 'sip-logs'], note: 'one address is a prefix of another' },
    ];
  }
}

export const DEFINITIONS = {
  owner: "dynamodb stores: items whose owner key (accountId; ownerAccountId for contacts) is the subject's accountId",
  thirdParty:
    "dynamodb stores: items of another account where an attribute of a third-party lookup (callerNumber, calleeNumber; contactPhone, contactEmail) equals one of the subject's identifiers; an item counts once even when several attributes match",
  objects: "s3-objects stores: distinct keys under the subject's key-template prefix",
  versions: 's3-objects stores: object versions under those keys, delete markers excluded',
  deleteMarkers: 's3-objects stores: delete markers under those keys',
  legalHolds: 's3-objects stores: versions with legal hold ON',
  current: 's3-objects stores: keys whose latest version is not a delete marker',
  records:
    "s3-records stores: parseable records (JSON lines; CSV records without the header) in which at least one field named by the data map matches one of the subject's identifiers (compared normalized, as functions/core/identifiers.ts defines: a phone number in any written form or SIP/tel URI is its E.164 number, Canada the default country; an address in any letter case is the lower-case address; match 'value': the field equals it; match 'token': a written value inside the field does, whole: +15145550101 is not in +151455501012, bob@example.com not in alice.bob@example.com); an unparseable (truncated) line is not a record (see malformed)",
  logObjects: 's3-records stores (expected.<store>.objects): log objects holding at least one such record',
} as const;

export interface NearMiss {
  readonly type: 'accountId' | 'phone' | 'email' | 'ip';
  readonly value: string;
  readonly near: string;
  readonly subjects: readonly string[];
  /** Stores where the generator put the `near` value. */
  readonly nearIn: readonly string[];
  readonly note: string;
}

export interface SubjectEntry {
  readonly subjectId: string;
  readonly identifiers: {
    readonly subjectId: string[];
    readonly accountId: string[];
    readonly email: string[];
    readonly phone: string[];
    readonly sipUsername: string[];
    readonly deviceId: string[];
    readonly ip: string[];
  };
  readonly flags: {
    readonly status: 'active' | 'deactivated';
    readonly deactivated: boolean;
    readonly deactivatedAt: string | null;
    readonly deactivatedOverTwoYearsAgo: boolean;
    readonly fraudInvestigation: boolean;
    readonly legalHeldMedia: boolean;
    readonly recordingEnabled: boolean;
    readonly specialCharacters: boolean;
  };
  readonly expected: Record<DynamoStoreName, { owner: number; thirdParty: number }> &
    Record<MediaStoreName, { objects: number; versions: number; deleteMarkers: number; legalHolds: number; current: number }> &
    Record<LogStoreName, { records: number; objects: number }>;
}

export interface SubjectsReport {
  readonly format: 'subject-rights-orchestrator/reference-dataset';
  readonly version: 1;
  readonly generatorVersion: number;
  readonly operator: string;
  readonly seed: number | string;
  readonly scale: Scale;
  readonly asOf: string;
  readonly options: Record<string, string | number>;
  readonly definitions: typeof DEFINITIONS;
  readonly totals: Record<DynamoStoreName, { items: number }> &
    Record<MediaStoreName, { objects: number; versions: number; deleteMarkers: number; legalHolds: number; bytes: number }> &
    Record<LogStoreName, { objects: number; records: number; uncompressedBytes: number }>;
  readonly subjects: SubjectEntry[];
  readonly nearMisses: NearMiss[];
  readonly malformed: Array<{ store: string; bucket: string; key: string; lines: number[]; mentions: string[] }>;
}

/**
 * The CDR date index's partition (`by-start-shard`): four shards, so the index's writes spread
 * over four partitions instead of one. A hash of the call id, with no draw from the generator's
 * random streams, so every other byte of the dataset stays as it was.
 */
export function startShard(callId: string): string {
  let h = 0;
  for (let i = 0; i < callId.length; i++) h = (h * 31 + callId.charCodeAt(i)) >>> 0;
  return `s${h % 4}`;
}

/**
 * subjects.json: each subject's identifiers, flags and expected counts per store, the totals,
 * the deliberate near-miss values and the truncated log lines, from the counts the parts noted
 * while they were generated.
 */
import { NEAR_MISS, SPECIAL_SUBJECT_ID, YEAR, type Subject } from './model';
import { GENERATOR_VERSION, type DatasetParams, type Scale } from './dataset-params';
import { DYNAMODB_STORES, LAYOUT, LOG_STORES, MEDIA_STORES, type DynamoStoreName, type LogStoreName, type MediaStoreName } from './layout';
import { counters } from './counters';
import type { TableTally } from './table-items';
import type { MediaTally } from './media-objects';
import type { LogObjectSpec, ObjectTally } from './log-records';
import { isoDate } from './formatting';

/** The counts every part noted; each part must have been generated in full. */
export interface ReportInput {
  readonly params: DatasetParams;
  readonly subjects: readonly Subject[];
  readonly tables: TableTally;
  readonly media: MediaTally;
  readonly logSpecs: readonly LogObjectSpec[];
  readonly logTallies: ReadonlyMap<string, ObjectTally>;
}

export function subjectsReport(input: ReportInput): SubjectsReport {
  const { params: p, subjects: all, tables, media, logSpecs, logTallies } = input;
  const n = all.length;
  const logCounts = counters(LOG_STORES, ['records', 'objects'], n);
  const logTotals: Record<string, { objects: number; records: number; uncompressedBytes: number }> = Object.fromEntries(LOG_STORES.map((s) => [s, { objects: 0, records: 0, uncompressedBytes: 0 }]));
  const malformed: SubjectsReport['malformed'] = [];
  for (const spec of logSpecs) {
    const tally = logTallies.get(spec.key)!;
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
        mentions: [...tally.malformedMentions].sort((a, b) => a - b).map((i) => all[i].accountId),
      });
    }
  }
  const subjects = all.map((s): SubjectEntry => {
    const expected: SubjectEntry['expected'] = {} as SubjectEntry['expected'];
    for (const store of DYNAMODB_STORES) expected[store] = { owner: tables.counts[store].owner[s.index], thirdParty: tables.counts[store].thirdParty[s.index] };
    for (const store of MEDIA_STORES) {
      const c = media.counts[store];
      expected[store] = { objects: c.objects[s.index], versions: c.versions[s.index], deleteMarkers: c.deleteMarkers[s.index], legalHolds: c.legalHolds[s.index], current: c.current[s.index] };
    }
    for (const store of LOG_STORES) expected[store] = { records: logCounts[store].records[s.index], objects: logCounts[store].objects[s.index] };
    const legalHolds = MEDIA_STORES.reduce((a, st) => a + media.counts[st].legalHolds[s.index], 0);
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
  const tableTotals = tables.totals;
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
      ...(media.totals as Record<MediaStoreName, { objects: number; versions: number; deleteMarkers: number; legalHolds: number; bytes: number }>),
      ...(logTotals as Record<LogStoreName, { objects: number; records: number; uncompressedBytes: number }>),
    },
    subjects,
    nearMisses: nearMisses(all),
    malformed,
  };
}

function nearMisses(s: readonly Subject[]): NearMiss[] {
  const prefixed = s.filter((x) => x.accountId !== 'cust-1' && x.accountId.startsWith('cust-1')).map((x) => x.accountId);
  return [
    { type: 'accountId', value: 'cust-1', near: 'cust-10', subjects: ['cust-1', 'cust-10'], nearIn: ['accounts', 'call-records', 'devices', 'app-logs'], note: `"cust-1" is a prefix of ${prefixed.length} other account ids` },
    { type: 'accountId', value: 'cust-1', near: SPECIAL_SUBJECT_ID, subjects: ['cust-1', SPECIAL_SUBJECT_ID], nearIn: ['accounts', 'devices', 'app-logs'], note: 'an account id made of regex and glob metacharacters that starts with "cust-1"' },
    { type: 'phone', value: NEAR_MISS.phone, near: NEAR_MISS.phoneLonger, subjects: [s[0].accountId], nearIn: ['call-records', 'contacts', 'sip-logs'], note: 'a misdialled number one digit longer than a customer number' },
    { type: 'email', value: NEAR_MISS.email, near: NEAR_MISS.emailLonger, subjects: [s[1].accountId, s[2].accountId], nearIn: ['accounts', 'contacts', 'app-logs'], note: 'one address is the tail of another' },
    { type: 'ip', value: NEAR_MISS.ip, near: NEAR_MISS.ipLonger, subjects: [s[0].accountId, s[10].accountId], nearIn: ['devices', 'sip-logs'], note: 'one address is a prefix of another' },
  ];
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

/**
 * The dataset's options and the parameters resolved from them: the scales, their profiles, and
 * the checks that refuse a bad option before anything is generated or any store is touched.
 */
import { DAY, HOUR, type ModelParams } from './model';
import { MIN_SUBJECTS } from './subjects';
import { isoDate } from './formatting';

export const SCALES = ['small', 'medium', 'large'] as const;
export type Scale = (typeof SCALES)[number];
export const DEFAULT_AS_OF = '2026-11-01T00:00:00Z';
export const GENERATOR_VERSION = 1;

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

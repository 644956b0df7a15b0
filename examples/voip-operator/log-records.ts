/**
 * What the SIP and portal log writers share: the context a log object is generated from, the
 * object's spec, the tally of what it turned out to hold, and how records become text chunks.
 */
import type { Rng } from './prng';
import type { Call, Contact, Device, ModelParams, Subject } from './model';
import { contactsOf } from './contacts';
import type { IdentifierIndex } from './identifier-index';

export interface LogContext {
  readonly params: ModelParams;
  readonly subjects: readonly Subject[];
  readonly index: IdentifierIndex;
  /** Calls inside the logged period, sorted by start. */
  readonly calls: readonly Call[];
  /** Devices that may register during the logged period. */
  readonly devices: ReadonlyArray<{ readonly s: Subject; readonly d: Device; readonly from: number; readonly until: number }>;
  readonly contacts: (i: number) => readonly Contact[];
}

export interface Slice {
  readonly from: number;
  readonly to: number;
  /** Uncompressed bytes to aim for. */
  readonly bytes: number;
}

export interface LogObjectSpec {
  readonly store: 'sip-logs' | 'app-logs';
  readonly key: string;
  readonly format: 'jsonl' | 'csv';
  readonly compression: 'gzip' | 'none';
  readonly slices: readonly Slice[];
  /** Holds a few truncated JSON lines. */
  readonly malformed?: boolean;
  /** Holds the fixed near-miss rows of the portal log. */
  readonly scripted?: boolean;
}

/** What one log object turned out to contain. */
export interface ObjectTally {
  records: number;
  bytes: number;
  /** Customer index → records mentioning them. */
  readonly perSubject: Map<number, number>;
  /** 1-based line numbers of truncated records, and the customers whose values they still show. */
  readonly malformedLines: number[];
  readonly malformedMentions: Set<number>;
}

export function newTally(): ObjectTally {
  return { records: 0, bytes: 0, perSubject: new Map(), malformedLines: [], malformedMentions: new Set() };
}

/** A record as written, kept until its slice is sorted by time and flushed. */
export interface Entry {
  readonly t: number;
  readonly line: string;
  readonly inv: readonly number[];
  /** Customers named by the phone numbers in From/To (for the truncated-line scenario). */
  readonly phoneInv?: readonly number[];
}

export const CHUNK_LINES = 2000;

/** Joins lines into one chunk of text and counts its UTF-8 bytes. */
export function chunk(lines: readonly string[], tally: ObjectTally): string {
  const text = lines.join('\n') + '\n';
  tally.bytes += Buffer.byteLength(text);
  return text;
}

/** Counts an entry written whole (one record, one mention of each customer it names); returns its line. */
export function wholeRecord(tally: ObjectTally, e: Entry): string {
  tally.records++;
  for (const i of e.inv) tally.perSubject.set(i, (tally.perSubject.get(i) ?? 0) + 1);
  return e.line;
}

/**
 * A slice's entries as chunks of CHUNK_LINES lines. `write` gives the line an entry (the k-th
 * of the slice) is written as, and counts it; by default every entry is a whole record.
 */
export function* chunked(entries: readonly Entry[], tally: ObjectTally, write: (e: Entry, k: number) => string = (e) => wholeRecord(tally, e)): Generator<string> {
  let batch: string[] = [];
  for (let k = 0; k < entries.length; k++) {
    batch.push(write(entries[k], k));
    if (batch.length >= CHUNK_LINES) {
      yield chunk(batch, tally);
      batch = [];
    }
  }
  if (batch.length > 0) yield chunk(batch, tally);
}

/** What the SIP and portal writers share: the entries of one slice, kept until it is full. */
export abstract class SliceWriter {
  readonly entries: Entry[] = [];
  /** Uncompressed bytes so far, newlines included: what the slice's byte target is measured on. */
  bytes = 0;
  constructor(
    protected readonly ctx: LogContext,
    readonly rng: Rng,
    /** How values are written (an address's case, a number's form): a stream of its own, so the dataset's other draws stay put. */
    protected readonly forms: Rng,
  ) {}

  protected keep(entry: Entry): void {
    this.entries.push(entry);
    this.bytes += entry.line.length + 1;
  }

  /** Adds traffic until the slice reaches its byte target; `step` gets a random time in the slice and a roll in [0, 1). */
  fill(slice: Slice, step: (t: number, roll: number) => void): void {
    const span = slice.to - slice.from;
    while (this.bytes < slice.bytes) {
      const t = slice.from + Math.floor(this.rng.next() * span);
      step(t, this.rng.next());
    }
  }

  /** The entries in time order; the sort is stable, so entries of one millisecond keep theirs. */
  byTime(): Entry[] {
    return this.entries.sort((a, b) => a.t - b.t);
  }
}

/** Notes the customer a written value names, once per record. */
export function lookupAll(out: number[], map: ReadonlyMap<string, number>, value: string | null | undefined): void {
  if (!value) return;
  // Addresses are kept in lower case by the model; a log may write them in any case.
  const i = map.get(value) ?? map.get(value.toLowerCase());
  if (i !== undefined && !out.includes(i)) out.push(i);
}

export const iso = (t: number) => new Date(t).toISOString();

/** An address of the internet's SIP scanners and credential stuffers (a benchmarking range). */
export function scannerIp(rng: Rng): string {
  return `198.${18 + rng.int(0, 1)}.${rng.int(0, 255)}.${rng.int(1, 254)}`;
}

/** The log context for a period: calls inside it and devices that may register in it. */
export function logContext(params: ModelParams, subjects: readonly Subject[], index: IdentifierIndex, from: number, to: number, allCalls: (i: number) => readonly Call[]): LogContext {
  const calls: Call[] = [];
  for (const s of subjects) for (const c of allCalls(s.index)) if (c.start >= from && c.start < to) calls.push(c);
  calls.sort((a, b) => a.start - b.start || (a.callId < b.callId ? -1 : a.callId > b.callId ? 1 : 0));
  const devices: Array<{ s: Subject; d: Device; from: number; until: number }> = [];
  for (const s of subjects) {
    for (const d of s.devices) {
      const start = Math.max(d.registeredAt, s.createdAt);
      if (s.activeUntil > from && start < to) devices.push({ s, d, from: start, until: s.activeUntil });
    }
  }
  const cache = new Map<number, readonly Contact[]>();
  return {
    params,
    subjects,
    index,
    calls,
    devices,
    contacts: (i) => {
      let c = cache.get(i);
      if (!c) {
        c = contactsOf(params, subjects, i);
        cache.set(i, c);
      }
      return c;
    },
  };
}

/**
 * The dataset's log objects: SIP proxy logs (JSON Lines, hour by hour) and customer-portal logs
 * (CSV, day by day), each generated on demand as a stream of text chunks. An object is a pure
 * function of (seed, object key), so objects can be produced in any order, and a 1 GB object
 * never exists in memory: it is built slice by slice, each slice sorted by time and flushed.
 *
 * While a record is built, the writers note which customers it mentions, by looking up the
 * canonical values they put in the fields the data map names (written in several forms: a
 * number as `+15145550101`, `5145550101` or `tel:+1-514-555-0101`, an address in the case the
 * customer typed it; see written-forms.ts). Those notes, one tally per object, become the
 * expected counts of subjects.json.
 */
import { Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { DAY, HOUR, type Subject } from './model';
import { callsOf } from './calls';
import type { IdentifierIndex } from './identifier-index';
import type { DatasetParams } from './dataset-params';
import { LAYOUT, type LogObject } from './layout';
import { logContext, newTally, type LogContext, type LogObjectSpec, type ObjectTally } from './log-records';
import { sipLines } from './sip-logs';
import { appLines } from './portal-logs';
import { ymd } from './formatting';

/**
 * The specs and the log context are built once and kept: every object needs them, and the
 * context (every call of the log window, every device that may register) is the costly part.
 */
export class DatasetLogs {
  /** What each object held, by key, once its lines were generated in full. */
  readonly tallies = new Map<string, ObjectTally>();
  private ctx?: LogContext;
  private specList?: LogObjectSpec[];

  constructor(
    private readonly params: DatasetParams,
    private readonly subjects: readonly Subject[],
    private readonly index: IdentifierIndex,
  ) {}

  /** Every log object's key, format and slices of traffic, in the order they are listed. */
  specs(): LogObjectSpec[] {
    if (this.specList) return this.specList;
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
    this.specList = specs;
    return specs;
  }

  private context(): LogContext {
    if (!this.ctx) {
      const p = this.params;
      const from = p.hugeLogObjectBytes > 0 ? p.logFrom - DAY : p.logFrom;
      this.ctx = logContext(p, this.subjects, this.index, from, p.logTo, (i) => callsOf(p, this.subjects, i));
    }
    return this.ctx;
  }

  /** The log objects (SIP hour by hour, then portal day by day); each body is generated on demand. */
  objects(): LogObject[] {
    return this.specs().map((spec) => this.object(spec));
  }

  private object(spec: LogObjectSpec): LogObject {
    const layout = spec.store === 'sip-logs' ? LAYOUT.sipLogs : LAYOUT.appLogs;
    const getContext = () => this.context();
    const tallies = this.tallies;
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
}

/**
 * Record framing over raw bytes, for streamed log objects: where each record starts and ends.
 *
 * - JSON Lines: a record is a line; the terminator is "\n" or "\r\n"; the last line may lack one.
 *   (The connector frames lines inline, in its scan loop; only CSV needs a framer.)
 * - CSV (RFC 4180): a record ends at a "\n" outside quotes, so a quoted field may hold commas,
 *   doubled quotes and line breaks. A quote inside an unquoted field is a literal character
 *   (common in real logs, and what csv-parse's `relax_quotes` accepts). A quoted field that is
 *   followed by something other than a comma or the end of the record, or that never closes,
 *   makes the record malformed; one that does not close within `maxRecordBytes` is cut back to
 *   its first line, so one stray quote cannot swallow the rest of an object.
 *
 * Framing works on Buffers with native indexOf, never on decoded strings, so bytes that are not
 * touched are never decoded, and they can be written back exactly as they were.
 */

const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const COMMA = 0x2c;

/** Spans of framed records, in growable typed arrays (no object per record). */
export class RecordSpans {
  count = 0;
  starts = new Int32Array(1024);
  /** End of the record's content: before its "\n" or "\r\n". */
  contentEnds = new Int32Array(1024);
  /** End of the record including its terminator. */
  ends = new Int32Array(1024);
  /** 1 when framing already knows the record is malformed (CSV quote errors). */
  malformed = new Uint8Array(1024);

  clear(): void {
    this.count = 0;
  }

  push(start: number, contentEnd: number, end: number, malformed: boolean): void {
    if (this.count === this.starts.length) this.grow();
    const i = this.count++;
    this.starts[i] = start;
    this.contentEnds[i] = contentEnd;
    this.ends[i] = end;
    this.malformed[i] = malformed ? 1 : 0;
  }

  private grow(): void {
    const n = this.starts.length * 2;
    const s = new Int32Array(n);
    s.set(this.starts);
    this.starts = s;
    const c = new Int32Array(n);
    c.set(this.contentEnds);
    this.contentEnds = c;
    const e = new Int32Array(n);
    e.set(this.ends);
    this.ends = e;
    const m = new Uint8Array(n);
    m.set(this.malformed);
    this.malformed = m;
  }
}

export interface Framer {
  /**
   * Frames the complete records of buf[from, length) into `out` and returns the offset where
   * the first incomplete record starts (= length when everything was framed). With `final`,
   * the data is complete and every byte ends up in some record.
   */
  frame(buf: Uint8Array, from: number, final: boolean, out: RecordSpans): number;
}

function contentEndBefore(buf: Uint8Array, start: number, nl: number): number {
  return nl > start && buf[nl - 1] === CR ? nl - 1 : nl;
}

export function csvFramer(maxRecordBytes = 1 << 20): Framer {
  return {
    frame(buf, from, final, out) {
      const length = buf.length;
      let p = from;
      while (p < length) {
        const r = frameCsvRecord(buf, p, final, maxRecordBytes);
        if (r === null) return p;
        out.push(p, r.contentEnd, r.end, r.malformed);
        p = r.end;
      }
      return p;
    },
  };
}

interface Framed {
  contentEnd: number;
  end: number;
  malformed: boolean;
}

function frameCsvRecord(buf: Uint8Array, start: number, final: boolean, cap: number): Framed | null {
  const length = buf.length;
  let pos = start;
  let malformed = false;
  for (;;) {
    const nl = buf.indexOf(LF, pos);
    const lineEnd = nl < 0 ? length : nl;
    const q = buf.indexOf(QUOTE, pos);
    if (q < 0 || q >= lineEnd) {
      if (nl < 0) {
        if (!final) return null;
        return { contentEnd: length, end: length, malformed };
      }
      return { contentEnd: contentEndBefore(buf, start, nl), end: nl + 1, malformed };
    }
    if (q !== start && buf[q - 1] !== COMMA) {
      // A quote inside an unquoted field: a literal character.
      pos = q + 1;
      continue;
    }
    // A quoted field: find its closing quote, skipping doubled quotes and line breaks.
    let c = q + 1;
    let closed = -1;
    for (;;) {
      c = buf.indexOf(QUOTE, c);
      if (c < 0) break;
      if (c - start > cap) {
        // Past the cap, a quote still closes the field if no line break came before it: the
        // cap is against a stray quote swallowing the lines after it, not against long lines.
        if (nl >= 0 && nl < c) break;
      }
      if (c + 1 >= length && !final) return null; // cannot tell `"` from `""` yet
      if (buf[c + 1] === QUOTE) {
        c += 2;
        continue;
      }
      closed = c;
      break;
    }
    if (closed < 0) {
      const firstNl = buf.indexOf(LF, start);
      // More data may close it; past the cap, only once the first line is complete is it cut back.
      if (!final && (firstNl < 0 || ((c < 0 || c - start <= cap) && length - start <= cap))) return null;
      // Never closes: the first line alone is a malformed record.
      if (firstNl < 0) return { contentEnd: length, end: length, malformed: true };
      return { contentEnd: contentEndBefore(buf, start, firstNl), end: firstNl + 1, malformed: true };
    }
    const after = closed + 1;
    if (after < length) {
      const n = buf[after];
      if (n !== COMMA && n !== LF && !(n === CR && (after + 1 >= length || buf[after + 1] === LF))) malformed = true;
    }
    pos = after;
  }
}

/** A parsed CSV record: field values, and each field's raw byte span (for minimal rewrites). */
export interface CsvFields {
  readonly values: string[];
  readonly spans: Array<[number, number]>;
}

/**
 * Parses one framed CSV record (its content, terminator excluded). Returns null when the record
 * is malformed: a quoted field not followed by a comma or the end, or an unclosed quote.
 */
export function parseCsvRecord(buf: Uint8Array, start: number, end: number): CsvFields | null {
  const values: string[] = [];
  const spans: Array<[number, number]> = [];
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  let p = start;
  for (;;) {
    if (p < end && b[p] === QUOTE) {
      const parts: string[] = [];
      let seg = p + 1;
      let c = p + 1;
      let closed = -1;
      while (c < end) {
        const q = b.indexOf(QUOTE, c);
        if (q < 0 || q >= end) break;
        if (q + 1 < end && b[q + 1] === QUOTE) {
          parts.push(b.toString('utf8', seg, q + 1));
          seg = q + 2;
          c = q + 2;
          continue;
        }
        closed = q;
        break;
      }
      if (closed < 0) return null;
      parts.push(b.toString('utf8', seg, closed));
      values.push(parts.join(''));
      spans.push([p, closed + 1]);
      const after = closed + 1;
      if (after === end) return { values, spans };
      if (b[after] !== COMMA) return null;
      p = after + 1;
    } else {
      let comma = b.indexOf(COMMA, p);
      if (comma < 0 || comma >= end) comma = end;
      values.push(b.toString('utf8', p, comma));
      spans.push([p, comma]);
      if (comma === end) return { values, spans };
      p = comma + 1;
    }
  }
}

/** One CSV field as RFC 4180 writes it: quoted (quotes doubled) when it holds `,` `"` CR or LF. */
export function formatCsvField(value: string): string {
  if (value.includes(',') || value.includes('"') || value.includes('\n') || value.includes('\r')) {
    return `"${value.replaceAll('"', '""')}"`;
  }
  return value;
}

/** Is this record blank (empty, or only spaces and tabs)? Blank lines are kept and not counted as malformed. */
export function isBlank(buf: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = buf[i];
    if (c !== 0x20 && c !== 0x09 && c !== CR) return false;
  }
  return true;
}

/** Cheap shape test of a JSON Lines record: first and last non-blank bytes are `{` and `}`. */
export function looksLikeJsonObject(buf: Uint8Array, start: number, end: number): boolean {
  let s = start;
  // A UTF-8 byte order mark may precede the first record of an object.
  if (end - s >= 3 && buf[s] === 0xef && buf[s + 1] === 0xbb && buf[s + 2] === 0xbf) s += 3;
  while (s < end && (buf[s] === 0x20 || buf[s] === 0x09)) s++;
  let e = end - 1;
  while (e > s && (buf[e] === 0x20 || buf[e] === 0x09 || buf[e] === CR)) e--;
  return s < end && buf[s] === 0x7b && buf[e] === 0x7d;
}

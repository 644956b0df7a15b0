/**
 * JSON string escapes in raw bytes, for the log prefilter: a value hidden behind `\u0040` or
 * `\"` is searched for in the line with its escapes undone.
 */

export function indexOfByte(buf: Uint8Array, byte: number, start: number, end: number): number {
  const i = buf.indexOf(byte, start);
  return i >= 0 && i < end ? i : -1;
}

/**
 * Undoes JSON string escapes in raw bytes (outside strings there are none in valid JSON):
 * `\"`, `\\`, `\/`, `\b\f\n\r\t`, and `\uXXXX` including surrogate pairs, as UTF-8. A lone
 * surrogate becomes U+FFFD, as Buffer.from does with a string holding one, so the result can
 * be searched for the UTF-8 of a parsed value. Invalid escapes are copied as they are.
 *
 * `decoded`, when given, receives the output span [start, end) of every escape undone, as pairs:
 * every other output byte is a literal copy, and a run of them is a run of the input.
 */
export function unescapeJsonBytes(buf: Uint8Array, start: number, end: number, decoded?: number[]): Buffer {
  const out = Buffer.allocUnsafe(end - start);
  let o = 0;
  let i = start;
  while (i < end) {
    const b = buf[i];
    if (b !== 0x5c || i + 1 >= end) {
      out[o++] = b;
      i++;
      continue;
    }
    const e = buf[i + 1];
    const simple = SIMPLE_ESCAPES[e];
    if (simple !== undefined) {
      decoded?.push(o, o + 1);
      out[o++] = simple;
      i += 2;
      continue;
    }
    if (e === 0x75 /* u */) {
      const unit = hex4(buf, i + 2, end);
      if (unit < 0) {
        out[o++] = b;
        i++;
        continue;
      }
      let cp = unit;
      let consumed = 6;
      if (unit >= 0xd800 && unit <= 0xdbff) {
        const low = buf[i + 6] === 0x5c && buf[i + 7] === 0x75 ? hex4(buf, i + 8, end) : -1;
        if (low >= 0xdc00 && low <= 0xdfff) {
          cp = 0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00);
          consumed = 12;
        } else {
          cp = 0xfffd;
        }
      } else if (unit >= 0xdc00 && unit <= 0xdfff) {
        cp = 0xfffd;
      }
      const n = utf8(cp, out, o);
      decoded?.push(o, o + n);
      o += n;
      i += consumed;
      continue;
    }
    out[o++] = b;
    i++;
  }
  return out.subarray(0, o);
}

const SIMPLE_ESCAPES: Record<number, number> = {
  0x22: 0x22,
  0x5c: 0x5c,
  0x2f: 0x2f,
  0x62: 0x08,
  0x66: 0x0c,
  0x6e: 0x0a,
  0x72: 0x0d,
  0x74: 0x09,
};

function hex4(buf: Uint8Array, at: number, end: number): number {
  if (at + 4 > end) return -1;
  let v = 0;
  for (let k = at; k < at + 4; k++) {
    const c = buf[k];
    const d = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x41 && c <= 0x46 ? c - 0x37 : c >= 0x61 && c <= 0x66 ? c - 0x57 : -1;
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

/** Writes a code point as UTF-8 (at most 4 bytes; never longer than the 6-byte escape it replaces). */
function utf8(cp: number, out: Buffer, at: number): number {
  if (cp < 0x80) {
    out[at] = cp;
    return 1;
  }
  if (cp < 0x800) {
    out[at] = 0xc0 | (cp >> 6);
    out[at + 1] = 0x80 | (cp & 0x3f);
    return 2;
  }
  if (cp < 0x10000) {
    out[at] = 0xe0 | (cp >> 12);
    out[at + 1] = 0x80 | ((cp >> 6) & 0x3f);
    out[at + 2] = 0x80 | (cp & 0x3f);
    return 3;
  }
  out[at] = 0xf0 | (cp >> 18);
  out[at + 1] = 0x80 | ((cp >> 12) & 0x3f);
  out[at + 2] = 0x80 | ((cp >> 6) & 0x3f);
  out[at + 3] = 0x80 | (cp & 0x3f);
  return 4;
}

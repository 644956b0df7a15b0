/**
 * Phone numbers as logs and databases write them, reduced to E.164 (`+15145550101`).
 *
 * Hand-written for the North American Numbering Plan (the reference operator's), plus E.164
 * from anywhere: a number with a country code (`+`, or the NANP exit code `011`) is kept as
 * its digits; a number without one is read in the data map's default country, which must be
 * a NANP country. Supporting national formats of other countries (a French `01 23 45 67 89`)
 * needs each country's numbering rules: that is the seam where a library such as
 * libphonenumber-js would come in (`normalizePhone` and `phoneSearchForms` are its whole
 * interface).
 *
 * Written forms are found in free text as chains of digit groups joined by at most two of
 * ` ().-` (`+1 (514) 555-0101`, `1-514-555-0101`, `514.555.0101`). A group is whole: digits
 * next to a digit, a letter or `_` are part of something else, so `+151455501010` and
 * `a5145550101` never hold `+15145550101`.
 */

/** Countries of the North American Numbering Plan (country code 1). */
export const NANP_COUNTRIES = [
  'CA', 'US', 'AG', 'AI', 'AS', 'BB', 'BM', 'BS', 'DM', 'DO', 'GD', 'GU', 'JM', 'KN', 'KY', 'LC', 'MP', 'MS', 'PR', 'SX', 'TC', 'TT', 'VC', 'VG', 'VI',
] as const;
export type NanpCountry = (typeof NANP_COUNTRIES)[number];

/** E.164 allows at most 15 digits; the shortest numbers in use have 7 (with their country code). */
const E164_MIN_DIGITS = 7;
const E164_MAX_DIGITS = 15;

/** NPA (area code) and NXX (exchange) both start with 2-9. */
const NANP_NATIONAL = /^[2-9][0-9]{2}[2-9][0-9]{6}$/;

const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
const isWordChar = (c: number): boolean => isDigit(c) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f;
/** ` ().-`: what separates digit groups of one written number. */
const isGroupSeparator = (c: number): boolean => c === 0x20 || c === 0x28 || c === 0x29 || c === 0x2e || c === 0x2d;

/**
 * E.164 of a number given as its digits, `international` when the writer put a `+` (or an exit
 * code) before them. `undefined` when the digits are no number this normalizer can read.
 */
export function e164(digits: string, international: boolean, defaultCountry: NanpCountry | undefined): string | undefined {
  if (!international && defaultCountry !== undefined) {
    if (digits.startsWith('011')) return e164(digits.slice(3), true, defaultCountry);
    if (NANP_NATIONAL.test(digits)) return `+1${digits}`;
    if (digits.length === 11 && digits[0] === '1' && NANP_NATIONAL.test(digits.slice(1))) return `+${digits}`;
    return undefined;
  }
  if (!international) return undefined;
  if (digits[0] === '1') return digits.length === 11 && NANP_NATIONAL.test(digits.slice(1)) ? `+${digits}` : undefined;
  if (digits[0] === '0' || digits.length < E164_MIN_DIGITS || digits.length > E164_MAX_DIGITS) return undefined;
  return `+${digits}`;
}

/**
 * A whole field that holds one phone number: bare (`(514) 555-0101`), or as a SIP or tel URI
 * (`sip:+15145550101@pbx.example.net;user=phone`, `"Jean" <sip:5145550101@host>`,
 * `tel:+1-514-555-0101`). E.164, or `undefined`.
 */
export function normalizePhone(raw: string, defaultCountry: NanpCountry | undefined): string | undefined {
  const text = phonePart(raw.trim());
  const tokens = phoneTokens(text, defaultCountry);
  // The whole text, give or take the separators around it: `(514) 555-0101`.
  const onlySeparators = (from: number, to: number): boolean => {
    for (let i = from; i < to; i++) if (!isGroupSeparator(text.charCodeAt(i))) return false;
    return true;
  };
  return tokens.find((t) => onlySeparators(0, t.start) && onlySeparators(t.end, text.length))?.e164;
}

/** The number part of a SIP/tel URI (display name, angle brackets, host and parameters dropped). */
function phonePart(text: string): string {
  const angle = /<([^<>]*)>/.exec(text);
  let t = angle ? angle[1].trim() : text;
  const scheme = /^(sips?|tel):/i.exec(t);
  if (!scheme) return t;
  t = t.slice(scheme[0].length);
  const at = t.indexOf('@');
  if (at >= 0) t = t.slice(0, at);
  const semi = t.indexOf(';');
  return semi >= 0 ? t.slice(0, semi) : t;
}

export interface PhoneToken {
  /** UTF-16 offsets of the written number in the text, its `+` included. */
  readonly start: number;
  readonly end: number;
  readonly e164: string;
}

interface Group {
  /** Offset of the group, its `+` included. */
  readonly start: number;
  readonly end: number;
  readonly plus: boolean;
  readonly digits: string;
  /** Joined to the group before it (a short run of separators between them). */
  joined: boolean;
}

/**
 * Every written number in `text` that reads as a phone number: for each chain of digit groups,
 * every run of consecutive groups (a run never starts inside a `+` number: `+33 514 555 0101`
 * holds no Canadian number) whose digits make a number. Runs overlap; callers compare each
 * against the values they look for.
 */
export function phoneTokens(text: string, defaultCountry: NanpCountry | undefined): PhoneToken[] {
  const groups = digitGroups(text);
  const out: PhoneToken[] = [];
  for (let s = 0; s < groups.length; s++) {
    const first = groups[s];
    if (!mayStartAt(text, groups, s)) continue;
    // `(514) 555-0101`: the written number starts at its parenthesis.
    const opening = first.start > 0 && text.charCodeAt(first.start - 1) === 0x28 && text.charCodeAt(first.end) === 0x29 ? first.start - 1 : first.start;
    let digits = '';
    for (let e = s; e < groups.length && (e === s || groups[e].joined); e++) {
      digits += groups[e].digits;
      if (digits.length > E164_MAX_DIGITS + 3) break;
      const last = e + 1 >= groups.length || !groups[e + 1].joined;
      if (last && !clearAfter(text, groups[e].end)) continue;
      const number = e164(digits, first.plus, defaultCountry);
      if (number !== undefined) out.push({ start: opening, end: groups[e].end, e164: number });
    }
  }
  return out;
}

/**
 * A number may start at a group when its chain starts clear of any word, and no group before it
 * in the chain is a `+` number (whose country code it would drop).
 */
function mayStartAt(text: string, groups: readonly Group[], s: number): boolean {
  let k = s;
  while (groups[k].joined) {
    k--;
    if (groups[k].plus) return false;
  }
  return clearBefore(text, groups[k].start);
}

/** A written number's first character must not continue a word, a number or a `+`. */
function clearBefore(text: string, start: number): boolean {
  if (start === 0) return true;
  const c = text.charCodeAt(start - 1);
  if (isWordChar(c) || c === 0x2b) return false;
  // `cust-5145550101`, `v1.5145550101`: a dash or dot glued to a word.
  if ((c === 0x2d || c === 0x2e) && start >= 2 && isWordChar(text.charCodeAt(start - 2))) return false;
  return true;
}

function clearAfter(text: string, end: number): boolean {
  if (end >= text.length) return true;
  const c = text.charCodeAt(end);
  if (isWordChar(c) || c === 0x2b) return false;
  if ((c === 0x2d || c === 0x2e) && end + 1 < text.length && isWordChar(text.charCodeAt(end + 1))) return false;
  return true;
}

function digitGroups(text: string): Group[] {
  const groups: Group[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    const plus = c === 0x2b && i + 1 < text.length && isDigit(text.charCodeAt(i + 1));
    if (!plus && !isDigit(c)) {
      i++;
      continue;
    }
    const start = i;
    if (plus) i++;
    const from = i;
    while (i < text.length && isDigit(text.charCodeAt(i))) i++;
    const prev = groups[groups.length - 1];
    const gap = prev ? start - prev.end : Infinity;
    let joined = !plus && prev !== undefined && gap >= 1 && gap <= 2;
    for (let k = prev ? prev.end : 0; joined && k < start; k++) joined = isGroupSeparator(text.charCodeAt(k));
    groups.push({ start, end: i, plus, digits: text.slice(from, i), joined });
  }
  return groups;
}

/**
 * The byte strings the prefilter searches for one E.164 number. A written form is matched only
 * when it contains one of them (see identifiers.ts), so the prefilter misses no match.
 *
 * NANP: the exchange and line (`555-0101`) joined by nothing, `-`, `.` or a space — every
 * usual form ends that way (`+15145550101`, `(514) 555-0101`, `514.555.0101`,
 * `+1 514 555 0101`). Elsewhere: the digits after the first three, unbroken (the country code
 * may be set apart, `+33 123456789`, the rest is written as one run).
 */
export function phoneSearchForms(e164Number: string): string[] {
  const digits = e164Number.slice(1);
  if (digits.length === 11 && digits[0] === '1') {
    const exchange = digits.slice(4, 7);
    const line = digits.slice(7);
    return [`${exchange}${line}`, `${exchange}-${line}`, `${exchange}.${line}`, `${exchange} ${line}`];
  }
  return [digits.slice(Math.max(0, Math.min(3, digits.length - 6)))];
}

/** The written forms of an E.164 number that this normalizer reads back to it (tests, dataset). */
export function phoneWrittenForms(e164Number: string): string[] {
  const digits = e164Number.slice(1);
  if (!(digits.length === 11 && digits[0] === '1')) return [e164Number, `011${digits}`];
  const [a, b, c] = [digits.slice(1, 4), digits.slice(4, 7), digits.slice(7)];
  return [
    e164Number,
    digits,
    `${a}${b}${c}`,
    `(${a}) ${b}-${c}`,
    `(${a})${b}-${c}`,
    `${a}-${b}-${c}`,
    `${a}.${b}.${c}`,
    `${a} ${b} ${c}`,
    `1-${a}-${b}-${c}`,
    `1 (${a}) ${b}-${c}`,
    `+1 ${a} ${b} ${c}`,
    `+1-${a}-${b}-${c}`,
    `+1 (${a}) ${b}-${c}`,
    `+1.${a}.${b}.${c}`,
  ];
}

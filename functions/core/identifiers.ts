/**
 * Identifier values as real systems write them, and their one canonical form.
 *
 * - phone: E.164 (`+15145550101`), from any usual written form, SIP and tel URIs unwrapped;
 *   numbers without a country code are read in the data map's default country (NANP only,
 *   see phone-numbers.ts).
 * - email: lower-cased, local part included (`Jean.Tremblay@Example.COM` is
 *   `jean.tremblay@example.com`): the local part is case-sensitive in RFC 5321, but no
 *   provider in use treats it so, and an erasure that missed the subject's mail written in
 *   capitals is the worse error. `mailto:` and angle brackets are dropped; sub-addresses
 *   (`jean+news@…`) are different addresses.
 * - ip: IPv4 in dotted decimal without leading zeros; IPv6 in its RFC 5952 form (lower case,
 *   zeros dropped, the longest run of zero groups as `::`); an IPv4-mapped IPv6 address is its
 *   IPv4 address; brackets and a port are dropped.
 * - sipUsername: a SIP URI's user part; otherwise as written (user parts are case-sensitive).
 * - subjectId, accountId, deviceId: exactly as written.
 *
 * Two rules keep the byte prefilter exact: `searchForms(kind, value)` are the byte strings it
 * searches for (case-insensitively when `foldsCase`), and a written value matches only when
 * it normalizes to the value AND contains one of those forms. So every match is a candidate.
 */
import { phoneSearchForms, phoneTokens, normalizePhone, type NanpCountry } from './phone-numbers';
import type { IdentifierType } from './datamap';

/** How a store writes identifiers (the data map's `identifiers`). */
export interface IdentifierSettings {
  readonly phone?: { readonly defaultCountry?: NanpCountry };
}

/** A written value found in a text: its UTF-16 span and its canonical form. */
export interface WrittenToken {
  readonly start: number;
  readonly end: number;
  readonly value: string;
}

/** The canonical form of a written value, or `undefined` when it is no value of this kind. */
export function normalize(kind: IdentifierType, raw: string, settings: IdentifierSettings = {}): string | undefined {
  switch (kind) {
    case 'phone':
      return normalizePhone(raw, settings.phone?.defaultCountry);
    case 'email':
      return normalizeEmail(raw);
    case 'ip':
      return normalizeIp(raw);
    case 'sipUsername': {
      const uri = /^\s*<?sips?:([^@;>]+)@/i.exec(raw);
      return uri ? uri[1] : raw;
    }
    case 'subjectId':
    case 'accountId':
    case 'deviceId':
      return raw;
  }
}

/** Kinds whose canonical form is the written value itself (no written variants exist). */
export function isVerbatim(kind: IdentifierType): boolean {
  return kind === 'subjectId' || kind === 'accountId' || kind === 'deviceId';
}

/**
 * Whether the prefilter must search `searchForms` ignoring ASCII case: addresses only. (IPv6
 * addresses get a lower- and an upper-case form instead, so a SIP log's prefilter keeps its
 * fast case-sensitive search; an address written in mixed case is not matched.)
 */
export function foldsCase(kind: IdentifierType, _value: string): boolean {
  return kind === 'email';
}

/** The byte strings (as text) a raw-byte search must look for to find every matching written form. */
export function searchForms(kind: IdentifierType, value: string): string[] {
  if (kind === 'phone' && value.startsWith('+')) return phoneSearchForms(value);
  if (kind === 'ip' && value.includes(':')) {
    const groups = ipv6Groups(value);
    if (groups) {
      const lower = [value, groups.map((g) => g.toString(16)).join(':'), groups.map((g) => g.toString(16).padStart(4, '0')).join(':')];
      return unique([...lower, ...lower.map((f) => f.toUpperCase())]);
    }
  }
  return [value];
}

/**
 * The search forms for a JSON Lines field that only `value` matching reads, as the line holds
 * them: with the quotes of the JSON string (or the URI or address punctuation that wraps the
 * value), so `"u123"` is no candidate inside `"u1234"`. A value field matches only when its
 * text, in quotes, contains one of them. `undefined`: the bare search forms serve.
 */
export function quotedValueForms(kind: IdentifierType, value: string): string[] | undefined {
  switch (kind) {
    case 'subjectId':
    case 'accountId':
    case 'deviceId':
      return [`"${value}"`];
    case 'sipUsername':
      return [`"${value}"`, `:${value}@`];
    case 'ip':
      return searchForms(kind, value).flatMap((f) => [`"${f}"`, `"${f}:`, `[${f}]`, `:${f}"`]);
    default:
      return undefined;
  }
}

/**
 * The written values of this kind in a free-text field, for `token` matching; `undefined` for
 * the verbatim kinds and SIP usernames, which are matched as whole tokens of their own
 * characters (see token-boundaries.ts).
 */
export function writtenTokens(kind: IdentifierType, text: string, settings: IdentifierSettings = {}): WrittenToken[] | undefined {
  switch (kind) {
    case 'phone':
      return phoneTokens(text, settings.phone?.defaultCountry).map((t) => ({ start: t.start, end: t.end, value: t.e164 }));
    case 'email':
      return emailTokens(text);
    case 'ip':
      return ipTokens(text);
    default:
      return undefined;
  }
}

/** Whether `written` contains one of `forms` (ASCII case ignored when `fold`). */
export function containsForm(written: string, forms: readonly string[], fold: boolean): boolean {
  const text = fold ? written.toLowerCase() : written;
  return forms.some((f) => text.includes(fold ? f.toLowerCase() : f));
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

// ───────────────────────────── email ─────────────────────────────

const isEmailLocal = (c: number): boolean =>
  (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x2e || c === 0x5f || c === 0x25 || c === 0x2b || c === 0x2d;
const isEmailDomain = (c: number): boolean => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x2e || c === 0x2d;

function normalizeEmail(raw: string): string | undefined {
  let t = raw.trim();
  const angle = /<([^<>]*)>/.exec(t);
  if (angle) t = angle[1].trim();
  if (/^mailto:/i.test(t)) t = t.slice(7);
  const tokens = emailTokens(t);
  return tokens.length === 1 && tokens[0].start === 0 && tokens[0].end === t.length ? tokens[0].value : undefined;
}

/**
 * Addresses in a text: around each `@`, the longest run of address characters on either side,
 * a trailing full stop or dash dropped (`write to bob@example.com.` ends the address).
 */
function emailTokens(text: string): WrittenToken[] {
  const out: WrittenToken[] = [];
  let at = text.indexOf('@');
  while (at >= 0) {
    let start = at;
    while (start > 0 && isEmailLocal(text.charCodeAt(start - 1))) start--;
    let end = at + 1;
    while (end < text.length && isEmailDomain(text.charCodeAt(end))) end++;
    while (end > at + 1 && (text.charCodeAt(end - 1) === 0x2e || text.charCodeAt(end - 1) === 0x2d)) end--;
    // An address glued to another `@` (`a@b@c`) is no address.
    const glued = (start > 0 && text.charCodeAt(start - 1) === 0x40) || (end < text.length && text.charCodeAt(end) === 0x40);
    if (start < at && end > at + 1 && !glued) out.push({ start, end, value: text.slice(start, end).toLowerCase() });
    at = text.indexOf('@', at + 1);
  }
  return out;
}

// ───────────────────────────── ip ─────────────────────────────

const IPV4 = /^(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])){3}$/;

function normalizeIp(raw: string): string | undefined {
  let t = raw.trim();
  const bracketed = /^\[([^\]]+)\](:[0-9]{1,5})?$/.exec(t);
  if (bracketed) t = bracketed[1];
  else {
    const v4port = /^([0-9.]+):[0-9]{1,5}$/.exec(t);
    if (v4port) t = v4port[1];
  }
  if (IPV4.test(t)) return t;
  const groups = ipv6Groups(t);
  if (!groups) return undefined;
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `${groups[6] >> 8}.${groups[6] & 0xff}.${groups[7] >> 8}.${groups[7] & 0xff}`;
  }
  return ipv6Canonical(groups);
}

/** The eight 16-bit groups of an IPv6 address (zone id dropped), or `undefined`. */
function ipv6Groups(text: string): number[] | undefined {
  const t = text.replace(/%[0-9A-Za-z._~-]+$/, '');
  if (!t.includes(':')) return undefined;
  const halves = t.split('::');
  if (halves.length > 2) return undefined;
  const parse = (part: string): number[] | undefined => {
    if (part === '') return [];
    const out: number[] = [];
    const pieces = part.split(':');
    for (let k = 0; k < pieces.length; k++) {
      const p = pieces[k];
      if (k === pieces.length - 1 && IPV4.test(p)) {
        const o = p.split('.').map(Number);
        out.push((o[0] << 8) | o[1], (o[2] << 8) | o[3]);
      } else if (/^[0-9A-Fa-f]{1,4}$/.test(p)) out.push(parseInt(p, 16));
      else return undefined;
    }
    return out;
  };
  const head = parse(halves[0]);
  const tail = halves.length === 2 ? parse(halves[1]) : [];
  if (!head || !tail) return undefined;
  if (halves.length === 1) return head.length === 8 ? head : undefined;
  const zeros = 8 - head.length - tail.length;
  return zeros >= 1 ? [...head, ...new Array<number>(zeros).fill(0), ...tail] : undefined;
}

function ipv6Canonical(groups: readonly number[]): string {
  let best = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) [best, bestLength] = [i, j - i];
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLength).join(':')}`;
}

const isIpChar = (c: number): boolean => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66) || c === 0x3a || c === 0x2e;
const isWordChar = (c: number): boolean => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f;

/**
 * Addresses in a text: maximal runs of `[0-9A-Fa-f:.]` not glued to a word, a trailing `.` or `:`
 * dropped (`10.0.0.1:5060` is the address with its port).
 */
function ipTokens(text: string): WrittenToken[] {
  const out: WrittenToken[] = [];
  let i = 0;
  while (i < text.length) {
    if (!isIpChar(text.charCodeAt(i))) {
      i++;
      continue;
    }
    const start = i;
    while (i < text.length && isIpChar(text.charCodeAt(i))) i++;
    let end = i;
    while (end > start && (text.charCodeAt(end - 1) === 0x2e || text.charCodeAt(end - 1) === 0x3a)) end--;
    const glued = (start > 0 && isWordChar(text.charCodeAt(start - 1))) || (i < text.length && isWordChar(text.charCodeAt(i)));
    if (glued || end === start) continue;
    const value = normalizeIp(text.slice(start, end));
    if (value !== undefined) out.push({ start, end, value });
  }
  return out;
}

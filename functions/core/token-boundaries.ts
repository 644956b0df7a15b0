/**
 * Where a value written in text begins and ends. Ids and SIP usernames occur as a whole token:
 * the characters just before and after cannot continue a value of that type. So `cust-1` never
 * matches `cust-10`, `+15145550101` never matches `+151455501012`, and `bob@example.com` never
 * matches inside `alice.bob@example.com`.
 *
 * One refinement of the boundary rule: a "." right after an occurrence continues the value only
 * when the character after that "." does too, so the full stop in "write to bob@example.com."
 * ends the address, while "bob@example.com.au" is another address.
 *
 * Compared literally, never through a RegExp built from a value.
 */
import type { IdentifierType } from './datamap';

const DOT = 0x2e;

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}
function isAlpha(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}
function isHex(c: number): boolean {
  return isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/** phone: [0-9+] */
const phoneClass = (c: number): boolean => isDigit(c) || c === 0x2b;
/** email: [A-Za-z0-9._%+\-@] */
const emailClass = (c: number): boolean =>
  isDigit(c) || isAlpha(c) || c === DOT || c === 0x5f || c === 0x25 || c === 0x2b || c === 0x2d || c === 0x40;
/** IPv4: [0-9.] */
const ipv4Class = (c: number): boolean => isDigit(c) || c === DOT;
/** IPv6: [0-9A-Fa-f:.] */
const ipv6Class = (c: number): boolean => isHex(c) || c === 0x3a || c === DOT;
/** ids, usernames, device ids: [A-Za-z0-9_.\-] */
const idClass = (c: number): boolean => isDigit(c) || isAlpha(c) || c === 0x5f || c === DOT || c === 0x2d;

/**
 * The characters that can continue a value of this identifier type, as a test on a UTF-16
 * code unit. For `ip` the value decides between the IPv4 and the IPv6 class.
 */
export function continuationClass(type: IdentifierType, value: string): (code: number) => boolean {
  switch (type) {
    case 'phone':
      return phoneClass;
    case 'email':
      return emailClass;
    case 'ip':
      return value.includes(':') ? ipv6Class : ipv4Class;
    case 'subjectId':
    case 'accountId':
    case 'sipUsername':
    case 'deviceId':
      return idClass;
  }
}

/**
 * True when `needle` occurs in `haystack` as a whole token: every occurrence is tried, so a
 * later whole-token occurrence is found after an earlier one that was part of a longer value.
 */
export function containsToken(haystack: string, needle: string, continues: (code: number) => boolean): boolean {
  return tokenOccurrences(haystack, needle, continues, true).length > 0;
}

/** Start offsets (UTF-16) of the whole-token occurrences of `needle` in `haystack`, left to right, not overlapping. */
export function tokenOccurrences(haystack: string, needle: string, continues: (code: number) => boolean, firstOnly = false): number[] {
  const found: number[] = [];
  if (needle.length === 0) return found;
  let i = haystack.indexOf(needle);
  while (i >= 0) {
    if (isWholeToken(haystack, i, needle.length, continues)) {
      found.push(i);
      if (firstOnly) return found;
      i = haystack.indexOf(needle, i + needle.length);
    } else {
      i = haystack.indexOf(needle, i + 1);
    }
  }
  return found;
}

function isWholeToken(haystack: string, start: number, length: number, continues: (code: number) => boolean): boolean {
  if (start > 0 && continues(haystack.charCodeAt(start - 1))) return false;
  const after = start + length;
  if (after >= haystack.length) return true;
  const next = haystack.charCodeAt(after);
  if (!continues(next)) return true;
  // A trailing full stop ends the token unless what follows it continues the value.
  if (next === DOT && (after + 1 >= haystack.length || !continues(haystack.charCodeAt(after + 1)))) return true;
  return false;
}

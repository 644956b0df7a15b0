/**
 * Normalizers and the prefilter's search forms: every written form of a value matches (value
 * fields, free text, behind the byte prefilter), and no near miss does.
 */
import fc from 'fast-check';
import { parseDataMap } from '../../functions/core/datamap';
import { foldsCase, normalize, searchForms, type IdentifierSettings } from '../../functions/core/identifiers';
import { fieldMatches, RecordMatcher, valuesAtPath, type RecordFieldSpec, type RecordFormat } from '../../functions/core/matching';
import { phoneWrittenForms } from '../../functions/core/phone-numbers';
import type { IdentifierType } from '../../functions/core/datamap';

const CA: IdentifierSettings = { phone: { defaultCountry: 'CA' } };

/** NANP numbers: area code and exchange start with 2-9. */
const nanp = fc
  .tuple(fc.integer({ min: 200, max: 999 }), fc.integer({ min: 200, max: 999 }), fc.integer({ min: 0, max: 9999 }))
  .map(([a, b, c]) => `+1${a}${b}${String(c).padStart(4, '0')}`);

/** Where a log puts a number: bare, in SIP/tel URIs, in prose. */
const phoneContext = fc.constantFrom(
  (n: string) => n,
  (n: string) => `sip:${n}@pbx.example.net`,
  (n: string) => `sip:${n}@pbx.example.net;user=phone`,
  (n: string) => `"Jean Tremblay" <sip:${n}@198.51.100.7>;tag=a1b2`,
  (n: string) => `tel:${n}`,
  (n: string) => `call from ${n}, 3 min`,
  (n: string) => `{"forwardTo":"${n}"}`,
);

/** Numbers that are not the given one but look like it. */
function phoneNearMisses(e164: string): string[] {
  const d = e164.slice(1);
  const area = d.slice(1, 4);
  const otherArea = area === '438' ? '450' : '438';
  const lastDigit = String((Number(d.at(-1)) + 1) % 10);
  return [
    `+${d}0`, // one digit longer
    `+${d.slice(0, -1)}${lastDigit}`, // last digit differs
    `+1${otherArea}${d.slice(4)}`, // another area code, the same seven digits (another person)
    `${otherArea}-${d.slice(4, 7)}-${d.slice(7)}`,
    `${d.slice(4, 7)}-${d.slice(7)}`, // no area code: no number
    `+33${d.slice(1)}`, // abroad
    `+33 ${area} ${d.slice(4, 7)} ${d.slice(7)}`,
    `x${d.slice(1)}`, // glued to a word
    `${d.slice(1)}7`,
  ];
}

function caseVariant(s: string, mask: number[]): string {
  return [...s].map((ch, i) => (mask[i % mask.length] ? ch.toUpperCase() : ch)).join('');
}

const emailArb = fc
  .tuple(fc.stringMatching(/^[a-z][a-z0-9]{0,6}(\.[a-z]{1,6})?$/), fc.stringMatching(/^[a-z]{2,8}$/), fc.constantFrom('com', 'ca', 'qc.ca', 'net'))
  .map(([local, host, tld]) => `${local}@${host}.${tld}`);

/** A matcher built as a connector builds it, and whether a one-field record matches behind the prefilter. */
function matchesBehindPrefilter(type: IdentifierType, identityValue: string, fieldValue: string, match: 'value' | 'token', format: RecordFormat): boolean {
  const spec: RecordFieldSpec = { path: 'f', identifier: type, match };
  const matcher = new RecordMatcher([spec], new Map([['s', { [type]: [identityValue] }]]), format, CA);
  if (format === 'jsonl') {
    const line = Buffer.from(JSON.stringify({ f: fieldValue }));
    const ids = matcher.candidates(line, 0, line.length);
    const parsed = JSON.parse(line.toString()) as unknown;
    const found = matcher.match((p) => valuesAtPath(parsed, p), ids).has('s');
    // The prefilter never hides a match: trying every value finds the same.
    expect(matcher.match((p) => valuesAtPath(parsed, p)).has('s')).toBe(found);
    return found;
  }
  const quoted = `"${fieldValue.replaceAll('"', '""')}"`;
  const line = Buffer.from(quoted);
  const ids = matcher.candidates(line, 0, line.length);
  const found = matcher.match(() => [fieldValue], ids).has('s');
  expect(matcher.match(() => [fieldValue]).has('s')).toBe(found);
  return found;
}

describe('phone numbers', () => {
  test('every written form of a NANP number is its E.164 form, alone, in a URI or in prose, behind the prefilter', () => {
    fc.assert(
      fc.property(nanp, fc.integer({ min: 0, max: 13 }), phoneContext, fc.constantFrom<RecordFormat>('jsonl', 'csv'), (e164, k, where, format) => {
        const written = phoneWrittenForms(e164)[k];
        expect(normalize('phone', written, CA)).toBe(e164);
        expect(fieldMatches(where(written), e164, 'phone', 'token', CA)).toBe(true);
        expect(matchesBehindPrefilter('phone', e164, where(written), 'token', format)).toBe(true);
        // The identity may hold the number as a portal stored it.
        expect(matchesBehindPrefilter('phone', phoneWrittenForms(e164)[(k + 3) % 14], where(written), 'token', format)).toBe(true);
        if (where(written) === written || where(written).startsWith('sip:') || where(written).startsWith('tel:')) {
          expect(matchesBehindPrefilter('phone', e164, where(written), 'value', format)).toBe(true);
        }
      }),
      { numRuns: 400 },
    );
  });

  test('near misses never match: one digit more or different, another area code, no area code, abroad, glued to a word', () => {
    fc.assert(
      fc.property(nanp, phoneContext, fc.constantFrom<RecordFormat>('jsonl', 'csv'), (e164, where, format) => {
        for (const near of phoneNearMisses(e164)) {
          expect([near, fieldMatches(where(near), e164, 'phone', 'token', CA)]).toEqual([near, false]);
          expect([near, matchesBehindPrefilter('phone', e164, where(near), 'token', format)]).toEqual([near, false]);
          expect([near, fieldMatches(near, e164, 'phone', 'value', CA)]).toEqual([near, false]);
        }
      }),
      { numRuns: 300 },
    );
  });

  test('a line with another person\'s number first still finds the subject\'s later', () => {
    expect(fieldMatches('from +14385550101 to (514) 555-0101', '+15145550101', 'phone', 'token', CA)).toBe(true);
    expect(fieldMatches('+151455501010 then 1.514.555.0101', '+15145550101', 'phone', 'token', CA)).toBe(true);
  });

  test('without a default country only numbers with a country code normalize', () => {
    expect(normalize('phone', '(514) 555-0101')).toBeUndefined();
    expect(normalize('phone', '+1 514 555 0101')).toBe('+15145550101');
    expect(normalize('phone', '011 33 1 23 45 67 89', CA)).toBe('+33123456789');
    expect(fieldMatches('sip:5145550101@pbx', '+15145550101', 'phone', 'token')).toBe(false);
  });

  test('search forms: the exchange and line, four ways, for NANP; the unbroken tail elsewhere', () => {
    expect(searchForms('phone', '+15145550101')).toEqual(['5550101', '555-0101', '555.0101', '555 0101']);
    expect(searchForms('phone', '+33123456789')).toEqual(['23456789']);
  });
});

describe('email addresses', () => {
  test('any letter case of an address is the address, in a value field and in prose, behind the (case-folding) prefilter', () => {
    fc.assert(
      fc.property(emailArb, fc.array(fc.integer({ min: 0, max: 1 }), { minLength: 1, maxLength: 7 }), fc.constantFrom<RecordFormat>('jsonl', 'csv'), (email, mask, format) => {
        const typed = caseVariant(email, mask);
        expect(normalize('email', typed)).toBe(email);
        expect(foldsCase('email', email)).toBe(true);
        expect(matchesBehindPrefilter('email', email, typed, 'value', format)).toBe(true);
        expect(matchesBehindPrefilter('email', typed, `invoice emailed to ${typed}.`, 'token', format)).toBe(true);
        expect(matchesBehindPrefilter('email', email, `<mailto:${typed}>`, 'value', format)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  test('near misses never match: a longer local part, a longer domain, a sub-address', () => {
    fc.assert(
      fc.property(emailArb, fc.array(fc.integer({ min: 0, max: 1 }), { minLength: 1, maxLength: 7 }), (email, mask) => {
        const [local, domain] = email.split('@');
        for (const near of [`x${email}`, `a.${email}`, `${email}.au`, `${email}x`, `${local}+news@${domain}`, `${local}@x${domain}`]) {
          const typed = caseVariant(near, mask);
          expect([typed, matchesBehindPrefilter('email', email, `login failed for ${typed}`, 'token', 'csv')]).toEqual([typed, false]);
          expect([typed, matchesBehindPrefilter('email', email, typed, 'value', 'jsonl')]).toEqual([typed, false]);
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('IP addresses and ids', () => {
  test('an IPv6 address in any written form is its RFC 5952 form; an IPv4-mapped address is the IPv4 address', () => {
    for (const written of ['2001:DB8::1', '2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8:0:0:0:0:0:1', '[2001:db8::1]:5060']) {
      expect(normalize('ip', written)).toBe('2001:db8::1');
      expect(fieldMatches(written, '2001:db8::1', 'ip', 'value')).toBe(true);
      expect(matchesBehindPrefilter('ip', '2001:db8::1', `from ${written}`, 'token', 'jsonl')).toBe(true);
    }
    expect(normalize('ip', '2001:db8:0:0:1:0:0:1')).toBe('2001:db8::1:0:0:1');
    expect(normalize('ip', '::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(normalize('ip', '192.0.2.7:5060')).toBe('192.0.2.7');
    expect(normalize('ip', '192.0.2.256')).toBeUndefined();
    for (const near of ['2001:db8::11', '2001:db8::1:1', '2001:db8:1::1']) expect(matchesBehindPrefilter('ip', '2001:db8::1', near, 'value', 'jsonl')).toBe(false);
    expect(matchesBehindPrefilter('ip', '192.0.2.7', '192.0.2.70', 'value', 'jsonl')).toBe(false);
  });

  test('ids are exact: no case folding, no prefix; a SIP username is a URI\'s user part', () => {
    expect(matchesBehindPrefilter('accountId', 'cust-1', 'cust-10', 'value', 'jsonl')).toBe(false);
    expect(matchesBehindPrefilter('accountId', 'cust-1', 'CUST-1', 'value', 'jsonl')).toBe(false);
    expect(matchesBehindPrefilter('accountId', 'cust-1', 'closed cust-1.', 'token', 'csv')).toBe(true);
    expect(matchesBehindPrefilter('sipUsername', 'alice', 'sip:alice@pbx.example.net', 'value', 'jsonl')).toBe(true);
    expect(matchesBehindPrefilter('sipUsername', 'alice', 'sip:Alice@pbx.example.net', 'value', 'jsonl')).toBe(false);
    expect(matchesBehindPrefilter('sipUsername', 'alice', 'sip:alice2@pbx.example.net', 'value', 'jsonl')).toBe(false);
  });
});

describe('data map setting', () => {
  const base = {
    version: 1,
    stores: [
      { name: 'accounts', kind: 'dynamodb', category: 'account', table: 'accounts', key: { partitionKey: 'accountId' }, lookups: [{ identifier: 'subjectId', attribute: 'accountId' }] },
      { name: 'logs', kind: 's3-records', category: 'logs', bucket: 'voip-logs', format: 'jsonl', fields: [{ path: 'to', identifier: 'phone', match: 'token' }] },
      { name: 'us-logs', kind: 's3-records', category: 'logs', bucket: 'voip-logs', format: 'jsonl', identifiers: { phone: { defaultCountry: 'US' } }, fields: [{ path: 'to', identifier: 'phone', match: 'token' }] },
    ],
  };

  test('every log store carries the default country, unless it says its own', () => {
    const map = parseDataMap({ ...base, identifiers: { phone: { defaultCountry: 'CA' } } });
    const logs = map.stores.filter((s) => s.kind === 's3-records');
    expect(logs.map((s) => s.identifiers)).toEqual([{ phone: { defaultCountry: 'CA' } }, { phone: { defaultCountry: 'US' } }]);
    expect(parseDataMap(base).identifiers).toEqual({});
  });

  test('a country outside the North American Numbering Plan is refused with a clear error', () => {
    expect(() => parseDataMap({ ...base, identifiers: { phone: { defaultCountry: 'FR' } } })).toThrow(
      /identifiers\.phone\.defaultCountry: must be a North American Numbering Plan country \(CA, US/,
    );
  });
});

import { cachedMatchers, recordMatcherFor } from '../../functions/core/matcher-cache';
import type { RecordFieldSpec } from '../../functions/core/matching';
import type { Identity } from '../../functions/connectors/types';

const fields: RecordFieldSpec[] = [
  { path: 'from', identifier: 'phone', match: 'token' },
  { path: 'sipUser', identifier: 'sipUsername', match: 'value' },
];
const subjects = (): Map<string, Identity> =>
  new Map([
    ['s1', { phone: ['+15145550101'], sipUsername: ['alice'] }],
    ['s2', { phone: ['+15145550202'] }],
  ]);

describe('compiled matchers are reused per container', () => {
  test('the same fields, format, settings and subjects give the very same matcher, whatever Map holds them', () => {
    const a = recordMatcherFor(fields, subjects(), 'jsonl', { phone: { defaultCountry: 'CA' } });
    expect(recordMatcherFor(fields, subjects(), 'jsonl', { phone: { defaultCountry: 'CA' } })).toBe(a);
  });

  test('any difference compiles anew: an identifier, the format, the settings, the fields', () => {
    const a = recordMatcherFor(fields, subjects(), 'jsonl');
    const changed = subjects();
    changed.set('s2', { phone: ['+15145550203'] });
    expect(recordMatcherFor(fields, changed, 'jsonl')).not.toBe(a);
    expect(recordMatcherFor(fields, subjects(), 'csv')).not.toBe(a);
    expect(recordMatcherFor(fields, subjects(), 'jsonl', { phone: { defaultCountry: 'US' } })).not.toBe(a);
    expect(recordMatcherFor(fields.slice(0, 1), subjects(), 'jsonl')).not.toBe(a);
    // A reused matcher finds what a fresh one finds.
    const line = Buffer.from('{"from":"sip:+15145550203@pbx.example","sipUser":"bob"}');
    expect(recordMatcherFor(fields, changed, 'jsonl').candidates(line, 0, line.length).size).toBeGreaterThan(0);
    expect(recordMatcherFor(fields, subjects(), 'jsonl').candidates(line, 0, line.length).size).toBe(0);
  });

  test('at most two are kept (a unit\'s discovery set and its rewrite set), the least recently used goes', () => {
    const one = recordMatcherFor(fields, new Map([['a', { phone: ['+15145550111'] }]]), 'jsonl');
    const two = recordMatcherFor(fields, new Map([['b', { phone: ['+15145550222'] }]]), 'jsonl');
    expect(recordMatcherFor(fields, new Map([['a', { phone: ['+15145550111'] }]]), 'jsonl')).toBe(one);
    recordMatcherFor(fields, new Map([['c', { phone: ['+15145550333'] }]]), 'jsonl');
    expect(cachedMatchers()).toBe(2);
    expect(recordMatcherFor(fields, new Map([['a', { phone: ['+15145550111'] }]]), 'jsonl')).toBe(one);
    expect(recordMatcherFor(fields, new Map([['b', { phone: ['+15145550222'] }]]), 'jsonl')).not.toBe(two);
  });
});

/** Anonymization strategies per field. */
import { createAnonymizer } from '../../functions/core/anonymize';

const key = 'k'.repeat(32);
const a = createAnonymizer(key);

describe('anonymization strategies', () => {
  it('null and redact replace the value', () => {
    expect(a.apply({ strategy: 'null' }, '+15145550101')).toBeNull();
    expect(a.apply({ strategy: 'redact', token: '[REDACTED]' }, 'bob@example.com')).toBe('[REDACTED]');
  });

  it('hmac is deterministic within a deployment, differs across keys, and hides the value', () => {
    const one = a.apply({ strategy: 'hmac' }, '+15145550101');
    expect(one).toBe(a.apply({ strategy: 'hmac' }, '+15145550101'));
    expect(one).not.toBe(a.apply({ strategy: 'hmac' }, '+151455501012'));
    expect(one).not.toBe(createAnonymizer('z'.repeat(32)).apply({ strategy: 'hmac' }, '+15145550101'));
    expect(String(one)).toMatch(/^hmac:[0-9a-f]{32}$/);
    expect(String(one)).not.toContain('5145550101');
  });

  it('generalize-date keeps the month or the year', () => {
    expect(a.apply({ strategy: 'generalize-date', to: 'month' }, '2026-05-17T10:20:00Z')).toBe('2026-05');
    expect(a.apply({ strategy: 'generalize-date', to: 'year' }, '2026-05-17')).toBe('2026');
    expect(a.apply({ strategy: 'generalize-date', to: 'year' }, 'not a date')).toBeNull();
  });

  it('refuses a key too short to be a secret', () => {
    expect(() => createAnonymizer('short')).toThrow(/at least 16 bytes/);
  });
});

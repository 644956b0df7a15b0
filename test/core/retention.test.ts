/** The decision per record: the default schedule from the seed policies, holds, Object Lock. */
import type { Store } from '../../functions/core/datamap';
import { actionFor } from '../../functions/core/plan';
import { addDuration, decide, DEFAULT_SCHEDULE, parseSchedule, type DecisionInput } from '../../functions/core/retention';
import { voipDataMap } from '../../examples/voip-operator';
import type { Finding } from '../../functions/connectors/types';

const map = voipDataMap();
const store = (name: string): Store => map.stores.find((s) => s.name === name)!;
const now = new Date('2026-11-02T00:00:00Z');
const finding = (over: Partial<Finding> = {}): Finding => ({
  id: 'f'.repeat(64),
  store: 'x',
  role: 'owner',
  locator: { type: 'dynamodb', table: 't', key: {} },
  ...over,
});
const input = (name: string, f: Partial<Finding>, over: Partial<DecisionInput> = {}): DecisionInput => ({
  finding: finding(f),
  store: store(name),
  requestType: 'erasure',
  now,
  schedule: DEFAULT_SCHEDULE,
  holds: [],
  ...over,
});

describe('retention decisions', () => {
  it('keeps invoices 7 years after their date for tax, and erases older ones', () => {
    expect(decide(input('invoices', { date: '2021-03-01T00:00:00Z' }))).toEqual({ decision: 'retain-until', basis: 'tax', until: '2028-03-01T00:00:00.000Z' });
    expect(decide(input('invoices', { date: '2019-10-01T00:00:00Z' }))).toEqual({ decision: 'erase', basis: 'tax' });
  });

  it('keeps call records 12 months from the call (CRTC), erases older ones', () => {
    expect(decide(input('call-records', { date: '2026-05-01T10:00:00Z' }))).toMatchObject({ decision: 'retain-until', basis: 'telecom-regulator', until: '2027-05-01T10:00:00.000Z' });
    expect(decide(input('call-records', { date: '2025-10-01T10:00:00Z' }))).toMatchObject({ decision: 'erase' });
  });

  it('erases recordings and contacts at once', () => {
    expect(decide(input('call-recordings', { date: '2026-10-30T00:00:00Z' }))).toEqual({ decision: 'erase', basis: 'none' });
    expect(decide(input('contacts', {}))).toEqual({ decision: 'erase', basis: 'none' });
  });

  it('refuses what Object Lock or a hold protects, with the reason', () => {
    expect(decide(input('call-recordings', { protection: { legalHold: true } }))).toEqual({ decision: 'refused', basis: 'object-legal-hold' });
    expect(decide(input('call-recordings', { protection: { legalHold: false, retention: { mode: 'COMPLIANCE', retainUntil: '2027-01-01T00:00:00Z' } } }))).toMatchObject({
      decision: 'refused',
      basis: 'object-lock-compliance',
    });
    expect(decide(input('accounts', {}, { holds: [{ kind: 'investigation', holdId: 'h1' }] }))).toEqual({ decision: 'refused', basis: 'investigation' });
  });

  it('keeps a record with a retention period but no date out of use instead of guessing', () => {
    expect(decide(input('invoices', {}))).toEqual({ decision: 'restrict', basis: 'tax:no-date' });
  });

  it('restriction requests restrict everything', () => {
    expect(decide(input('invoices', { date: '2010-01-01T00:00:00Z' }, { requestType: 'restriction' }))).toEqual({ decision: 'restrict', basis: 'subject-request' });
  });

  it('turns decisions into actions by role', () => {
    expect(actionFor('erase', 'owner', 'erasure')).toBe('delete');
    expect(actionFor('erase', 'third-party', 'erasure')).toBe('redact-mentions');
    expect(actionFor('retain-until', 'owner', 'erasure')).toBe('restrict');
    expect(actionFor('erase', 'owner', 'access')).toBe('keep');
  });

  it('adds calendar durations', () => {
    expect(addDuration(new Date('2024-02-29T00:00:00Z'), { years: 1 }).toISOString()).toBe('2025-03-01T00:00:00.000Z');
    expect(addDuration(new Date('2026-01-31T00:00:00Z'), { months: 12 }).toISOString()).toBe('2027-01-31T00:00:00.000Z');
  });

  it('rejects a schedule with an unknown category or a negative duration, naming the path', () => {
    expect(() => parseSchedule({ rules: [{ category: 'pets', basis: 'x' }] })).toThrow(/rules\[0\]\.category/);
    expect(() => parseSchedule({ rules: [{ category: 'billing', keep: { years: -1 }, basis: 'tax' }] })).toThrow(/rules\[0\]\.keep\.years/);
  });
});

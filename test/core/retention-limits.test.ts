/** The schedule's limits turned into enforcement work: subject limits, record limits, and the log stores' lifecycle rules. */
import fs from 'node:fs';
import path from 'node:path';
import { lifecycleConfigurations } from '../../cli/commands/retention-enforcement';
import { parseDataMap } from '../../functions/core/datamap';
import { addDuration, DEFAULT_SCHEDULE, parseSchedule } from '../../functions/core/retention';
import { cutoffFor, lifecycleDays, lifecycleRules, purgeUnits, recordLimits, subjectLimits } from '../../functions/core/retention-limits';

const dataMap = parseDataMap(JSON.parse(fs.readFileSync(path.join(__dirname, '../../examples/voip-operator/datamap.json'), 'utf8')));

describe('retention limits', () => {
  test('subject-level limits come from the schedule and name the data map\'s date indexes', () => {
    const limits = subjectLimits(dataMap, DEFAULT_SCHEDULE);
    expect(limits.map((l) => [l.category, l.from, l.after, l.dateIndex.index, l.stores ?? 'every store'])).toEqual([
      ['call-recording', 'termination', { months: 6 }, 'by-status-terminated', ['call-recordings']],
      ['account', 'deactivation', { years: 2 }, 'by-status-deactivated', 'every store'],
    ]);
  });

  test('record-level limits: CDRs through their date index, invoices by a segmented Scan', () => {
    const limits = recordLimits(dataMap, DEFAULT_SCHEDULE);
    expect(limits.map((l) => [l.store, l.after, l.basis, l.expiry.method])).toEqual([
      ['invoices', { years: 7 }, 'tax', 'scan'],
      ['call-records', { months: 12 }, 'telecom-regulator', 'index'],
    ]);
    expect(purgeUnits(limits).map((u) => `${u.store}:${u.segment}/${u.segments}`)).toEqual(['invoices:0/4', 'invoices:1/4', 'invoices:2/4', 'invoices:3/4', 'call-records:0/1']);
  });

  test('a cutoff is the limit counted back: an anchor one day before it is past, one day after is not', () => {
    const now = new Date('2028-08-01T12:00:00Z');
    const cutoff = cutoffFor(now, { years: 2 });
    expect(cutoff.toISOString()).toBe('2026-08-01T12:00:00.000Z');
    expect(addDuration(new Date(cutoff.getTime() - 86_400_000), { years: 2 }) < now).toBe(true);
    expect(addDuration(new Date(cutoff.getTime() + 86_400_000), { years: 2 }) > now).toBe(true);
  });

  test('the generated lifecycle rules match the schedule: each log store expires at its limit, noncurrent versions a day later', () => {
    const rules = lifecycleRules(dataMap, DEFAULT_SCHEDULE);
    const logsRule = DEFAULT_SCHEDULE.rules.find((r) => r.category === 'logs')!;
    const logStores = dataMap.stores.filter((s) => s.kind === 's3-records');
    for (const store of logStores) {
      const expire = rules.find((r) => r.id === `dsr-expire-${store.name}`)!;
      expect(expire).toMatchObject({ bucket: store.bucket, prefix: store.prefix, expirationDays: lifecycleDays(logsRule.limit!.after) });
      // Never before the limit: S3 counts days from creation and rounds up to midnight.
      expect(new Date(Date.UTC(2026, 0, 1) + expire.expirationDays! * 86_400_000) >= addDuration(new Date(Date.UTC(2026, 0, 1)), logsRule.limit!.after)).toBe(true);
      expect(rules.find((r) => r.id === `dsr-expire-noncurrent-${store.name}`)).toMatchObject({ bucket: store.bucket, prefix: store.prefix, noncurrentVersionExpirationDays: 1 });
    }
    expect(rules.filter((r) => r.expiredObjectDeleteMarker).map((r) => r.bucket)).toEqual(['voip-logs']);
    // No rule touches the media bucket: recordings go by subject (termination), never by object age.
    expect(rules.some((r) => r.bucket === 'voip-media')).toBe(false);
    const config = lifecycleConfigurations(rules) as Record<string, { LifecycleConfiguration: { Rules: Array<Record<string, unknown>> } }>;
    expect(config['voip-logs'].LifecycleConfiguration.Rules).toContainEqual({ ID: 'dsr-expire-sip-logs', Status: 'Enabled', Filter: { Prefix: 'sip/' }, Expiration: { Days: 372 } });
  });

  test('a schedule whose log limit is shorter than what it must keep is refused', () => {
    const schedule = parseSchedule({ rules: [{ category: 'logs', basis: 'x', keep: { months: 6 }, limit: { after: { months: 3 }, from: 'record' } }] });
    expect(() => lifecycleRules(dataMap, schedule)).toThrow('shorter than what it must keep');
  });
});

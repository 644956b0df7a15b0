/**
 * What an erasure left on purpose: refusals from the plan and the connector, counted per reason
 * for the receipt, and how VerifyErasure recognises a kept finding whose locator has changed.
 * Pure functions over plan entries and findings: no store is involved.
 */
import type { Finding } from '../../functions/connectors/types';
import { countRefusals, excusesRemaining, foundIdentities, isHeld, keptIdentities, refusedFindings } from '../../functions/core/outcomes';
import type { StorePlan } from '../../functions/core/plan';

const slice = (entries: StorePlan['entries']): StorePlan => ({ store: 'voicemail', kind: 's3-objects', findingsHash: 'h', entries });

test('plan refusals and connector refusals, once each, with the connector words for an S3 legal hold', () => {
  const plan = slice([
    { findingId: 'a', role: 'owner', decision: 'refused', basis: 'object-legal-hold', action: 'restrict' },
    { findingId: 'b', role: 'owner', decision: 'refused', basis: 'object-lock-governance', until: '2030-01-01T00:00:00.000Z', action: 'restrict' },
    { findingId: 'c', role: 'owner', decision: 'refused', basis: 'litigation', action: 'restrict' },
    { findingId: 'd', role: 'owner', decision: 'erase', basis: 'none', action: 'delete' },
    // An access request changes nothing: its refusals are not the receipt's.
    { findingId: 'e', role: 'owner', decision: 'refused', basis: 'object-legal-hold', action: 'keep' },
  ]);
  const refused = refusedFindings(plan, { refused: [{ findingId: 'd', reason: 'marker-hides-kept-version' }, { findingId: 'a', reason: 'legal-hold' }] });
  expect([...refused]).toEqual([
    ['a', 'legal-hold'],
    ['b', 'object-lock-governance'],
    ['c', 'litigation'],
    ['d', 'marker-hides-kept-version'],
  ]);
  expect(countRefusals('voicemail', refused)).toEqual([
    { store: 'voicemail', reason: 'legal-hold', count: 1 },
    { store: 'voicemail', reason: 'litigation', count: 1 },
    { store: 'voicemail', reason: 'marker-hides-kept-version', count: 1 },
    { store: 'voicemail', reason: 'object-lock-governance', count: 1 },
  ]);
  expect(['legal-hold', 'object-lock-compliance', 'litigation'].every(isHeld)).toBe(true);
  expect(['version-holds-retained-records', 'marker-hides-kept-version', 'malformed-record'].some(isHeld)).toBe(false);
  // A malformed record left to be reported still counts as unexpectedly readable.
  expect(excusesRemaining('malformed-record')).toBe(false);
  expect(excusesRemaining('legal-hold')).toBe(true);
});

const object = (versionId: string | null, isLatest: boolean): Finding => ({
  id: `object-${versionId}-${isLatest}`,
  store: 'call-recordings',
  role: 'owner',
  locator: { type: 's3-object', bucket: 'media', key: 'recordings/cust-1/a.wav', versionId, isDeleteMarker: false, isLatest, size: 3 },
});
const record = (versionId: string | undefined, fingerprint = 'f1', key = 'sip/a.jsonl.gz'): Finding => ({
  id: `record-${versionId}-${fingerprint}-${key}`,
  store: 'sip-logs',
  role: 'owner',
  locator: { type: 's3-record', bucket: 'logs', key, etag: '"e"', line: 3, fingerprint, ...(versionId ? { versionId } : {}) },
});
const recognised = (kept: Finding, found: Finding) => foundIdentities(found).some((k) => keptIdentities(kept).includes(k));

test('a kept S3 version is the same version once it has become the latest', () => {
  expect(recognised(object('v1', false), object('v1', true))).toBe(true);
  expect(recognised(object('v1', false), object('v2', true))).toBe(false);
  expect(recognised(object(null, true), object(null, false))).toBe(true);
});

test('a kept log record is recognised by key and bytes, in the version it was in or, if it was current, in any version', () => {
  // Current at discovery; its object rewritten since, the version holding it kept (Object Lock).
  expect(recognised(record(undefined), record('v1'))).toBe(true);
  expect(recognised(record(undefined), record(undefined))).toBe(true);
  // A noncurrent version never changes: only that version.
  expect(recognised(record('v1'), record('v1'))).toBe(true);
  expect(recognised(record('v1'), record('v2'))).toBe(false);
  expect(recognised(record('v1'), record(undefined))).toBe(false);
  // Other bytes, or another object: another record.
  expect(recognised(record(undefined), record('v1', 'f2'))).toBe(false);
  expect(recognised(record(undefined), record(undefined, 'f1', 'sip/b.jsonl.gz'))).toBe(false);
});

/**
 * Erasure outcomes end to end on the local engine, against the seeded reference operator.
 * Media S3 holds back (a legal hold on one old version of a recording; the dataset's held
 * voicemail under a delete marker): the held versions stay, everything else goes, the request
 * completes, its receipt names the refusals by store, reason and count, and VerifyErasure counts
 * the held versions as held, not as unexpectedly left. And the dataset's truncated SIP log line
 * that still shows a subject's number: after the erasure no version holds the number, and every
 * other line is byte for byte what it was.
 */
import { ListObjectVersionsCommand, PutObjectLegalHoldCommand, type S3Client } from '@aws-sdk/client-s3';
import type { SubjectsReport } from '../../examples/voip-operator/generator';
import { startSeededEngine, type SeededEngine, type TestEngine } from '../support/engine';
import { versionTexts } from '../support/log-store';

const NOW = '2026-11-02T12:00:00.000Z';
const MEDIA = 'voip-media';
let env: SeededEngine;
let t: TestEngine;
let report: SubjectsReport;
let s3: S3Client;

const verification = ['--verified-by', 'agent-7', '--verification-method', 'id-document', '--verification-ref', 'TICKET-3', '--verified-at', NOW];

async function erase(requestId: string, subject: string) {
  const r = await t.dsr('start', '--type', 'erasure', '--subject', subject, '--request-id', requestId, ...verification, '--wait', '--json');
  const receipt = JSON.parse((await t.dsr('receipt', requestId, '--json')).out).receipt;
  return { ...r, summary: JSON.parse(r.out.trim().split('\n').pop() ?? '{}'), receipt };
}

async function versionsUnder(prefix: string) {
  const out = await s3.send(new ListObjectVersionsCommand({ Bucket: MEDIA, Prefix: prefix }));
  return {
    versions: (out.Versions ?? []).map((v) => ({ key: v.Key!, versionId: v.VersionId!, isLatest: v.IsLatest === true, lastModified: v.LastModified! })),
    markers: (out.DeleteMarkers ?? []).map((m) => ({ key: m.Key!, versionId: m.VersionId!, isLatest: m.IsLatest === true })),
  };
}

/** Subjects the truncated-line test erases: the other tests leave them alone. */
function namedInTruncatedLine(subjectId: string): boolean {
  return report.malformed.some((m) => m.mentions.includes(subjectId));
}

beforeAll(async () => {
  env = await startSeededEngine({ seed: 7, now: NOW });
  ({ t, report, s3 } = env);
}, 240_000);

afterAll(() => env?.close());

describe('erasure of held media versions', () => {
  it('a legal hold on one old version of a recording: kept, the rest erased, the request completes with the refusal on its receipt', async () => {
    // A subject held back by nothing else, with a recording that has an older version.
    let chosen: { subject: string; key: string; oldest: string } | undefined;
    for (const s of report.subjects.filter((x) => !x.flags.fraudInvestigation && !x.flags.legalHeldMedia && !x.flags.specialCharacters && x.expected['call-recordings'].versions > x.expected['call-recordings'].objects && !namedInTruncatedLine(x.subjectId))) {
      const { versions } = await versionsUnder(`recordings/${s.subjectId}/`);
      const byKey = new Map<string, typeof versions>();
      for (const v of versions) byKey.set(v.key, [...(byKey.get(v.key) ?? []), v]);
      const multi = [...byKey.entries()].find(([, vs]) => vs.length >= 2);
      if (multi) {
        const oldest = [...multi[1]].sort((a, b) => a.lastModified.getTime() - b.lastModified.getTime())[0];
        chosen = { subject: s.subjectId, key: multi[0], oldest: oldest.versionId };
        break;
      }
    }
    if (!chosen) throw new Error('the small dataset has no plain subject with a recording of two versions');
    await s3.send(new PutObjectLegalHoldCommand({ Bucket: MEDIA, Key: chosen.key, VersionId: chosen.oldest, LegalHold: { Status: 'ON' } }));

    const r = await erase('held-old-version', chosen.subject);
    expect(r.summary.status).toBe('completed');
    expect(r.receipt.outcome).toBe('completed');
    expect(r.receipt.refusals).toEqual([{ store: 'call-recordings', reason: 'legal-hold', count: 1 }]);
    expect(r.receipt.verification).toEqual({ remaining: expect.any(Number), held: 1, unexpected: 0 });
    const left = await versionsUnder(`recordings/${chosen.subject}/`);
    expect(left.versions.map((v) => v.versionId)).toEqual([chosen.oldest]);
    expect(left.markers).toEqual([]);
  }, 300_000);

  it("the dataset's held voicemail under a delete marker: the version and its marker stay, the rest goes, the request completes", async () => {
    const subject = report.subjects.find((s) => s.expected.voicemail.legalHolds > 0 && !s.flags.fraudInvestigation);
    if (!subject) throw new Error('the small dataset has no subject with a held voicemail');
    const before = await versionsUnder(`voicemail/${subject.subjectId}/`);
    expect(before.markers.length).toBeGreaterThan(0);

    const r = await erase('held-voicemail', subject.subjectId);
    expect(r.summary.status).toBe('completed');
    const refusals = (r.receipt.refusals as Array<{ store: string; reason: string; count: number }>).filter((x) => x.store === 'voicemail');
    expect(refusals).toEqual([
      { store: 'voicemail', reason: 'legal-hold', count: subject.expected.voicemail.legalHolds },
      // Deleting the marker would make the held message the current object again.
      { store: 'voicemail', reason: 'marker-hides-kept-version', count: 1 },
    ]);
    expect(r.receipt.verification.unexpected).toBe(0);
    expect(r.receipt.verification.held).toBeGreaterThanOrEqual(subject.expected.voicemail.legalHolds);
    const left = await versionsUnder(`voicemail/${subject.subjectId}/`);
    expect(left.versions).toHaveLength(subject.expected.voicemail.legalHolds);
    expect(left.versions.every((v) => !v.isLatest)).toBe(true);
    expect(left.markers.map((m) => ({ key: m.key, isLatest: m.isLatest }))).toEqual(left.versions.map((v) => ({ key: v.key, isLatest: true })));

    // Run again: the same receipt, nothing new erased or refused.
    const again = await erase('held-voicemail', subject.subjectId);
    expect(again.receipt).toEqual(r.receipt);
  }, 300_000);
});

describe('erasure of a subject named in a truncated log line', () => {
  const versionsOf = (bucket: string, key: string): Promise<string[]> => versionTexts(s3, bucket, key, true);
  const parses = (line: string): boolean => {
    try {
      JSON.parse(line);
      return true;
    } catch {
      return false;
    }
  };
  const asToken = (phone: string) => new RegExp(`(?<![0-9+])${phone.replace(/[+]/g, '\\+')}(?![0-9])`);

  it('leaves no version with the number readable; every line without the subject is kept byte for byte', async () => {
    const entry = report.malformed.find((m) => m.store === 'sip-logs' && m.mentions.length > 0);
    if (!entry) throw new Error('the small dataset has no truncated SIP line that shows a number');
    const subject = report.subjects.find((s) => entry.mentions.includes(s.subjectId) && !s.flags.fraudInvestigation && !s.flags.legalHeldMedia);
    if (!subject) throw new Error('no erasable subject is named in a truncated SIP line');
    const phones = subject.identifiers.phone ?? [];
    const before = await versionsOf(entry.bucket, entry.key);
    expect(before).toHaveLength(1);
    const lines = before[0].split('\n');
    // Found by content, not by the dataset's line numbers: an earlier erasure may have rewritten the object.
    const truncated = lines.filter((l) => l !== '' && !parses(l) && phones.some((p) => asToken(p).test(l)));
    expect(truncated.length).toBeGreaterThan(0);

    const r = await erase('erase-truncated-line', subject.subjectId);
    expect(r.summary.status).toBe('completed');
    expect(r.receipt.verification.unexpected).toBe(0);

    const after = await versionsOf(entry.bucket, entry.key);
    expect(after).toHaveLength(1);
    for (const p of phones) expect(asToken(p).test(after[0])).toBe(false);
    // The truncated line stays, its number redacted in place.
    for (const l of truncated) expect(after[0].split('\n')).toContain(phones.reduce((t, p) => t.replace(new RegExp(asToken(p).source, 'g'), '[REDACTED]'), l));
    // Every line that never named the subject is still there, in order, byte for byte.
    const values = Object.values(subject.identifiers).flat();
    const untouched = lines.filter((l) => !values.some((v) => l.includes(v)));
    const kept = after[0].split('\n').filter((l) => untouched.includes(l));
    expect(kept).toEqual(untouched);
  }, 300_000);
});

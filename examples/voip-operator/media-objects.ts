/**
 * The media buckets' objects: call recordings, voicemail and faxes, each with its versions
 * (transcodes, delete markers, restores, legal holds), and the per-subject counts of them.
 */
import { rngFor } from './prng';
import { DAY, YEAR, type Call, type Subject } from './model';
import { callsOf } from './calls';
import { externalNumber } from './outside-parties';
import type { DatasetParams } from './dataset-params';
import { LAYOUT, MEDIA_STORES, type MediaObject, type MediaVersion } from './layout';
import { counters, type Counter } from './counters';
import { isoDate, ymd } from './formatting';
import { pdfBytes, wavBytes } from './media';

/** What the objects turned out to hold: counts per subject, and objects, versions and bytes per store. */
export interface MediaTally {
  readonly counts: Counter;
  readonly totals: Record<string, Record<string, number>>;
}

/** Calls that have a recording: the last answered calls of the recording window. */
export function recordedCalls(s: Subject, calls: readonly Call[], maxRecordings: number): Call[] {
  if (!s.recordingEnabled) return [];
  const from = s.activeUntil - 180 * DAY;
  return calls.filter((c) => c.disposition === 'ANSWERED' && c.start >= from).slice(-maxRecordings);
}

/** Every media object with its versions, subject by subject; `done` gets the counts once the last object is out. */
export function* mediaObjects(p: DatasetParams, subjects: readonly Subject[], done: (tally: MediaTally) => void): Generator<MediaObject> {
  const n = subjects.length;
  const counts = counters(MEDIA_STORES, ['objects', 'versions', 'deleteMarkers', 'legalHolds', 'current'], n);
  const totals: Record<string, Record<string, number>> = Object.fromEntries(MEDIA_STORES.map((s) => [s, { objects: 0, versions: 0, deleteMarkers: 0, legalHolds: 0, bytes: 0 }]));
  const note = (o: MediaObject, owner: number): MediaObject => {
    const c = counts[o.store];
    const t = totals[o.store];
    c.objects[owner]++;
    t.objects++;
    for (const v of o.versions) {
      if (v.deleteMarker) {
        c.deleteMarkers[owner]++;
        t.deleteMarkers++;
      } else {
        c.versions[owner]++;
        t.versions++;
        t.bytes += v.body.length;
        if (v.legalHold) {
          c.legalHolds[owner]++;
          t.legalHolds++;
        }
      }
    }
    if (!o.versions[o.versions.length - 1].deleteMarker) c.current[owner]++;
    return o;
  };
  for (const s of subjects) {
    const rng = rngFor(p.seed, 'media', s.index);
    const calls = callsOf(p, subjects, s.index);
    const version = (seconds: number, legalHold: boolean, metadata: Record<string, string>): MediaVersion => ({ deleteMarker: false, body: wavBytes(rng, seconds), legalHold, metadata });
    for (const c of recordedCalls(s, calls, p.profile.maxRecordings)) {
      const { y, m } = ymd(c.start);
      const held = s.legalHold === 'recordings';
      const meta = { 'call-id': c.callId, 'duration-seconds': String(c.durationSeconds) };
      const versions: MediaVersion[] = [version(0.25 + rng.next() * 0.5, held, meta)];
      if (rng.chance(0.15)) versions.push(version(0.25 + rng.next() * 0.5, held, { ...meta, transcoded: 'true' }));
      if (!held && rng.chance(0.08)) versions.push({ deleteMarker: true });
      yield note({ store: 'call-recordings', bucket: LAYOUT.recordings.bucket, key: `recordings/${s.accountId}/${y}/${m}/${c.callId}.wav`, accountId: s.accountId, contentType: 'audio/wav', versions }, s.index);
    }
    const vmFrom = s.activeUntil - 120 * DAY;
    const voicemails = calls.filter((c) => c.disposition === 'VOICEMAIL' && c.start >= vmFrom).slice(-p.profile.maxVoicemails);
    for (const c of voicemails) {
      const stamp = isoDate(c.start).replace(/[-:]/g, '').slice(0, 15);
      const meta = { 'call-id': c.callId };
      const versions: MediaVersion[] = [];
      if (s.legalHold === 'voicemail' && c.scripted) {
        // Litigation hold on a message the customer has since deleted: the held version
        // is noncurrent, under a delete marker.
        versions.push(version(0.3, true, meta), { deleteMarker: true });
      } else {
        versions.push(version(0.2 + rng.next() * 0.4, false, meta));
        if (rng.chance(0.12)) versions.push(version(0.2 + rng.next() * 0.4, false, { ...meta, transcoded: 'true' }));
        if (rng.chance(0.2)) versions.push({ deleteMarker: true });
        // Now and then a message is restored after deletion: a version above the marker.
        if (versions[versions.length - 1].deleteMarker && rng.chance(0.25)) versions.push(version(0.2, false, { ...meta, restored: 'true' }));
      }
      yield note({ store: 'voicemail', bucket: LAYOUT.voicemail.bucket, key: `voicemail/${s.accountId}/INBOX/${stamp}-${c.callId.slice(0, 8)}.wav`, accountId: s.accountId, contentType: 'audio/wav', versions }, s.index);
    }
    const faxCount = s.plan.code === 'BIZ-3' ? rng.int(1, p.profile.maxFaxes) : rng.chance(0.12) ? rng.int(1, p.profile.maxFaxes) : 0;
    for (let k = 0; k < faxCount; k++) {
      const at = Math.max(s.createdAt, s.activeUntil - YEAR) + Math.floor(rng.next() * Math.min(YEAR, s.activeUntil - s.createdAt));
      const inbound = rng.chance(0.6);
      const other = externalNumber(rng);
      const own = s.phones[s.phones.length - 1];
      const body = pdfBytes([
        'FAX TRANSMISSION',
        `From: ${inbound ? other : own}`,
        `To: ${inbound ? own : other}`,
        `Date: ${isoDate(at)}`,
        `Attn: ${s.businessName ?? s.fullName}`,
        'Pages: 1',
        inbound ? 'Re: Soumission / Quote #' + rng.int(1000, 9999) : 'Re: Signed agreement',
      ]);
      const versions: MediaVersion[] = [{ deleteMarker: false, body, legalHold: false, metadata: { pages: '1', direction: inbound ? 'inbound' : 'outbound' } }];
      if (rng.chance(0.1)) versions.push({ deleteMarker: true });
      const key = `fax/${s.accountId}/${inbound ? 'inbound' : 'outbound'}/${isoDate(at).slice(0, 10)}-${rng.hex(6)}.pdf`;
      yield note({ store: 'fax', bucket: LAYOUT.fax.bucket, key, accountId: s.accountId, contentType: 'application/pdf', versions }, s.index);
    }
  }
  done({ counts, totals });
}

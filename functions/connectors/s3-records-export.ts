/**
 * Export of a subject's log records: each object version holding findings is read once, and
 * each finding handed its record, in line order; what is gone or unreadable by then is
 * reported as missing with the reason. A malformed record is never exported: its raw bytes may
 * be anyone's.
 */
import type { S3RecordsStore } from '../core/datamap';
import { RecordMatcher } from '../core/matching';
import { fieldSpecs, keyHash, ONE } from './s3-records-common';
import { readObject } from './s3-records-read';
import { UnreadableObjectError } from './s3-records-stream';
import { compareText } from './s3-shared';
import type { ConnectorContext, ExportItem, Finding, Identity, S3RecordLocator } from './types';

export async function* exportRecords(store: S3RecordsStore, identity: Identity, findings: readonly Finding[], ctx: ConnectorContext): AsyncIterable<ExportItem> {
  // Per object version read: the key, and the noncurrent version id if any ('' = current).
  const byRead = new Map<string, Finding[]>();
  for (const f of findings) {
    const loc = f.locator;
    if (loc.type !== 's3-record' || f.store !== store.name) continue;
    const id = `${loc.key}\u0000${loc.versionId ?? ''}`;
    byRead.set(id, [...(byRead.get(id) ?? []), f]);
  }
  const matcher = new RecordMatcher(fieldSpecs(store), new Map([[ONE, identity]]), store.format, store.identifiers);
  for (const [id, list] of [...byRead.entries()].sort(([a], [b]) => compareText(a, b))) {
    const [key, versionId] = id.split('\u0000');
    // Several findings may share a fingerprint (identical lines): hand them out in order.
    const waiting = new Map<string, Finding[]>();
    for (const f of [...list].sort((a, b) => (a.locator as S3RecordLocator).line - (b.locator as S3RecordLocator).line)) {
      const fp = (f.locator as S3RecordLocator).fingerprint;
      waiting.set(fp, [...(waiting.get(fp) ?? []), f]);
    }
    const items: ExportItem[] = [];
    let result;
    try {
      result = await readObject(
        store,
        key,
        matcher,
        (r) => {
          const queue = waiting.get(r.fingerprint);
          if (!queue || queue.length === 0 || !r.matches.has(ONE)) return;
          const f = queue.shift() as Finding;
          items.push(r.malformed ? { type: 'missing', findingId: f.id, reason: 'record-malformed' } : { type: 'record', findingId: f.id, role: 'owner', record: r.record });
        },
        ctx,
        versionId || undefined,
      );
    } catch (err) {
      if (!(err instanceof UnreadableObjectError)) throw err;
      result = 'unreadable' as const;
    }
    yield* items;
    const reason = result === 'missing' ? 'object-gone' : result === 'unreadable' ? 'object-unreadable' : 'record-gone';
    for (const queue of waiting.values()) for (const f of queue) yield { type: 'missing', findingId: f.id, reason };
    ctx.log('s3-records.exported', { store: store.name, keyHash: keyHash(store.bucket, key), records: items.length });
  }
}

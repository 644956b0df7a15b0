/**
 * The rewrite of an object from what its scan kept (`RecordStreamOptions.retain`): the same
 * output, byte for byte, and the same counts as `processRecords` reading the object again with
 * the same decisions, without reading, inflating or matching anything a second time. The
 * batched log pass scans a round of objects, decides, then rewrites them this way, so an object
 * it rewrites is read once, not twice (bench/README.md, "one read per object").
 */
import { createHash } from 'node:crypto';
import type { RecordDecision, RetainedBody, RewriteCounts, MatchedRecord } from './s3-records-stream';

/** A scanned object kept for its rewrite: the counts its scan made and what it retained. */
export interface RetainedScan {
  readonly etag: string;
  readonly versionId?: string;
  readonly counts: RewriteCounts;
  readonly body: RetainedBody;
}

/** A slab of a round's arena, and so the biggest object a scan keeps (an hour of SIP log, 8 MB gzip, is about 75 MB). */
export const SLAB_BYTES = 128 * 1024 * 1024;

/**
 * Where a round's kept bodies live: slabs allocated once per unit and reused by every round.
 * Keeping zlib's own output buffers instead (a fresh 4 MB one per object) cost a third of a scan
 * in garbage collection (V8 collects more often as external memory grows: bench/README.md);
 * copying each body into a slab costs a memcpy. A body bigger than a slab keeps its own chunks
 * (the connector keeps none that big: RetainedBody.limit).
 */
export class RoundArena {
  private readonly slabs: Buffer[] = [];
  private slab = 0;
  private offset = 0;

  /** The body's chunks copied into one contiguous slice of a slab. */
  hold(chunks: readonly Buffer[], total: number): Buffer[] {
    if (total > SLAB_BYTES || total === 0) return [...chunks];
    if (this.offset + total > SLAB_BYTES) {
      this.slab++;
      this.offset = 0;
    }
    const slab = (this.slabs[this.slab] ??= Buffer.allocUnsafeSlow(SLAB_BYTES));
    let at = this.offset;
    for (const c of chunks) at += c.copy(slab, at);
    const held = slab.subarray(this.offset, at);
    this.offset = at;
    return [held];
  }

  /** The next round writes over the last one's bodies: call once nothing of it is used any more. */
  reset(): void {
    this.slab = 0;
    this.offset = 0;
  }
}

/**
 * Replays the kept records through `decide` in their order, writing every byte between the
 * removed or replaced ones as it was; returns the counts `processRecords` would have returned
 * for the same rewrite.
 */
export async function replayRecords(
  scan: Pick<RetainedScan, 'counts' | 'body'>,
  decide: (record: MatchedRecord) => RecordDecision | void,
  write: (chunk: Buffer, gzip: boolean) => Promise<void> | void,
): Promise<RewriteCounts> {
  const { chunks, records } = scan.body;
  const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
  const gzip = scan.counts.gzip;
  const hash = createHash('sha256');
  let outputBytes = 0;
  const emit = async (chunk: Buffer) => {
    if (chunk.length === 0) return;
    hash.update(chunk);
    outputBytes += chunk.length;
    await write(chunk, gzip);
  };
  let removed = 0;
  let replaced = 0;
  let malformedReplaced = 0;
  let runStart = 0;
  for (const r of records) {
    const d = decide(r.record);
    if (!d || d.kind === 'keep') continue;
    await emit(body.subarray(runStart, r.start));
    if (d.kind === 'remove') {
      removed++;
    } else {
      replaced++;
      if (r.record.malformed) malformedReplaced++;
      await emit(Buffer.concat([d.bytes, body.subarray(r.contentEnd, r.end)]));
    }
    runStart = r.end;
  }
  await emit(body.subarray(runStart));
  const c = scan.counts;
  return { ...c, kept: c.records - removed - replaced, removed, replaced, malformedReplaced, outputSha256: hash.digest('hex'), outputBytes };
}

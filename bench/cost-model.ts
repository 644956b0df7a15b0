/**
 * Time and cost of one log-erasure pass over a log store on a Distributed Map of Lambda
 * workers, from figures the bench measures (CPU-seconds per GB of one worker, the store's
 * compression ratio) and AWS list prices. Pure arithmetic, so it is unit-tested
 * (test/core/cost-model.test.ts) and printed by `npm run bench` beside S3 Find and Forget's
 * published figures.
 *
 * The shape modelled: the store's objects are listed into a manifest (LIST), batched by
 * uncompressed bytes so a batch finishes inside the Lambda timeout, and scanned by child
 * executions (one Lambda each, 1 vCPU at 1,769 MB) at most `concurrency` at a time; every
 * object is read once (GET) whatever the number of subjects, and each batch writes one result
 * (PUT). The objects that hold a queued subject's record are rewritten: compressed again,
 * staged, read back to verify and copied over the original (REWRITE_REQUESTS); their
 * share and CPU cost are measured too (`Measured.rewrite`), because with a thousand subjects
 * most objects of a busy log hold one, and compressing costs several times inflating.
 */

import { PRICES } from './prices';

export { PRICES };

/** Lambda gives one full vCPU at 1,769 MB. */
export const LAMBDA_MB_PER_VCPU = 1769;
export const LAMBDA_TIMEOUT_S = 900;

/** S3 Find and Forget's COST_OVERVIEW figures, the anchor the model is set beside. */
export const FIND_AND_FORGET = [
  { dataset: '100 GB gzip JSON', seconds: 22 * 60, usd: 5.89, workers: '50 Fargate tasks' },
  { dataset: '10 TB Parquet', seconds: 150 * 60, usd: 75.69, workers: 'Fargate tasks' },
] as const;

export interface Measured {
  /** CPU-seconds one worker spends per GB (1e9 bytes) of uncompressed log, K subjects. */
  readonly cpuSecondsPerUncompressedGb: number;
  /** Uncompressed bytes per stored byte (gzip: about 8 on the reference SIP logs). */
  readonly expansion: number;
  /** Average stored bytes per object (one GET and one manifest line each). */
  readonly storedBytesPerObject: number;
  /**
   * The objects rewritten because they hold a subject's record: their share of all objects, and
   * the CPU-seconds per uncompressed GB of rewriting one (filter, gzip again, read back and
   * inflate to verify), on top of the scan.
   */
  readonly rewrite: { readonly share: number; readonly cpuSecondsPerUncompressedGb: number };
}

export interface Scenario {
  readonly name: string;
  /** Stored (compressed) bytes of the store, as S3 bills and lists them. */
  readonly storedBytes: number;
  readonly concurrency: number;
  /**
   * Stored bytes per object, when the store's objects are not the size the bench measured on:
   * request counts (a GET per object, four requests per rewritten one) follow the object count.
   */
  readonly storedBytesPerObject?: number;
  /** Fraction of the Lambda timeout a batch is sized to use (margin for slow objects). Default 0.5. */
  readonly timeoutShare?: number;
  /** Seconds per child execution beyond the scan: start, cold start, result write. Default 2. */
  readonly overheadSecondsPerBatch?: number;
  /** Seconds for listing into a manifest and the parent's own states. Default 10. */
  readonly fixedSeconds?: number;
}

export interface Estimate {
  readonly name: string;
  readonly storedBytes: number;
  readonly uncompressedBytes: number;
  readonly objects: number;
  readonly batches: number;
  readonly uncompressedBytesPerBatch: number;
  readonly secondsPerBatch: number;
  readonly waves: number;
  readonly wallSeconds: number;
  readonly cpuSeconds: number;
  readonly rewrittenObjects: number;
  readonly cost: { readonly lambda: number; readonly stepFunctions: number; readonly s3: number; readonly total: number };
}

/**
 * S3 requests of one rewrite beyond the scan's GET of the object: a staging PUT, the COPY over
 * the original, a LIST of the key's versions (its older ones go); a HEAD (the version is still
 * the one the scan kept), GetObjectTagging, the verify GET, a HEAD of the replaced version
 * (Object Lock) before it is deleted. DELETEs are free.
 */
export const REWRITE_REQUESTS = { putClass: 3, getClass: 4 } as const;

/** State transitions per child execution (start, the scan Task, success) and for the parent. */
const TRANSITIONS_PER_BATCH = 3;
const PARENT_TRANSITIONS = 10;

export function estimate(m: Measured, s: Scenario): Estimate {
  if (!(m.cpuSecondsPerUncompressedGb > 0) || !(m.expansion > 0) || !(m.storedBytesPerObject > 0)) throw new RangeError('measured figures must be positive');
  if (!(m.rewrite.share >= 0 && m.rewrite.share <= 1) || !(m.rewrite.cpuSecondsPerUncompressedGb >= 0)) throw new RangeError('the rewritten share is a fraction and its CPU cost not negative');
  if (!(s.storedBytes > 0) || !(s.concurrency >= 1)) throw new RangeError('scenario needs bytes and a concurrency of at least 1');
  const share = s.timeoutShare ?? 0.5;
  const overhead = s.overheadSecondsPerBatch ?? 2;
  const fixed = s.fixedSeconds ?? 10;
  const uncompressed = s.storedBytes * m.expansion;
  const objects = Math.ceil(s.storedBytes / (s.storedBytesPerObject ?? m.storedBytesPerObject));
  // A worker's rate over its batch: every byte scanned, the rewritten share compressed again too.
  const bytesPerSecond = 1e9 / (m.cpuSecondsPerUncompressedGb + m.rewrite.share * m.rewrite.cpuSecondsPerUncompressedGb);
  const rewritten = Math.round(objects * m.rewrite.share);
  // The biggest batch that finishes inside its share of the timeout; but at least one batch per
  // worker, so that the concurrency is used, and never less than one object per batch.
  const maxBatchBytes = bytesPerSecond * (LAMBDA_TIMEOUT_S * share - overhead);
  const batches = Math.min(objects, Math.max(s.concurrency, Math.ceil(uncompressed / maxBatchBytes)));
  const perBatch = uncompressed / batches;
  const scanSeconds = perBatch / bytesPerSecond;
  const secondsPerBatch = scanSeconds + overhead;
  const waves = Math.ceil(batches / s.concurrency);
  const wallSeconds = fixed + waves * secondsPerBatch;
  const gbSeconds = batches * secondsPerBatch * (LAMBDA_MB_PER_VCPU / 1024);
  const lambda = gbSeconds * PRICES.lambdaGbSecond + batches * PRICES.lambdaRequest;
  const stepFunctions = (batches * TRANSITIONS_PER_BATCH + PARENT_TRANSITIONS) * PRICES.stepFunctionsTransition;
  // One LIST per 1,000 keys, one GET per object, one PUT per batch result and the manifest, one
  // LIST per batch for stale staged bodies; per rewritten object what the connector sends
  // (counted against the local S3 in test/connectors/s3-records-batch.test.ts).
  const s3 =
    Math.ceil(objects / 1000) * PRICES.s3List +
    objects * PRICES.s3Get +
    (batches + 1) * PRICES.s3Put +
    batches * PRICES.s3List +
    rewritten * (REWRITE_REQUESTS.putClass * PRICES.s3Put + REWRITE_REQUESTS.getClass * PRICES.s3Get);
  return {
    name: s.name,
    storedBytes: s.storedBytes,
    uncompressedBytes: uncompressed,
    objects,
    batches,
    uncompressedBytesPerBatch: perBatch,
    secondsPerBatch,
    waves,
    wallSeconds,
    cpuSeconds: batches * scanSeconds,
    rewrittenObjects: rewritten,
    cost: { lambda, stepFunctions, s3, total: lambda + stepFunctions + s3 },
  };
}

/** Stored bytes of one object in the table's second shape: an hour of one server's SIP log, gzip. */
export const HOURLY_OBJECT_BYTES = 8e6;

/**
 * The bench's table: 100 GB and 10 TB stored, at concurrency 100 and 1,000, with objects the
 * size the bench measured on and with 8 MB objects (the count of objects sets the request cost).
 */
export function standardScenarios(): Scenario[] {
  const out: Scenario[] = [];
  for (const [name, bytes] of [['100 GB gzip JSON Lines', 100e9], ['10 TB gzip JSON Lines', 10e12]] as const) {
    for (const concurrency of [100, 1000]) out.push({ name: `${name}, concurrency ${concurrency}`, storedBytes: bytes, concurrency });
    for (const concurrency of [100, 1000]) out.push({ name: `${name} in 8 MB objects, concurrency ${concurrency}`, storedBytes: bytes, concurrency, storedBytesPerObject: HOURLY_OBJECT_BYTES });
  }
  return out;
}

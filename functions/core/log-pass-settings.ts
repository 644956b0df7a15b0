/**
 * Settings of the batched log-erasure pass (functions/core/log-pass.ts). The defaults are sized
 * from the bench (bench/README.md): a work unit of 4 GiB of records takes a 1,769 MB Lambda
 * (one vCPU) well under a minute to scan, far inside its 900 s, even when most of its objects
 * have to be rewritten.
 */
import { z } from 'zod';

const GiB = 1024 ** 3;

export const LogPassSettingsSchema = z
  .object({
    /** A `logPass: auto` store holding at least this many stored bytes (every version) is erased by the pass. */
    aboveBytes: z.number().int().nonnegative().default(10 * GiB),
    /** Uncompressed bytes of records one work unit (one child execution) reads, estimated from stored sizes. */
    unitBytes: z.number().int().min(1024 * 1024).default(4 * GiB),
    /**
     * Bytes of records a unit reads, decides and rewrites at a time, keeping each object it read
     * in memory for its rewrite (one read per object); 0 keeps nothing (every rewrite reads again).
     * Sized for the unit function's 1,769 MB.
     */
    roundBytes: z.number().int().nonnegative().default(384 * 1024 * 1024),
    /** Uncompressed bytes per stored byte assumed for a gzip object when sizing units (JSON logs: 8-12). */
    gzipRatio: z.number().min(1).max(100).default(10),
    /** Subjects one pass erases at most; the rest wait for the next pass, oldest first. */
    maxSubjects: z.number().int().min(1).max(100_000).default(10_000),
    /** Child executions of the Distributed Map running at once (Lambda concurrency the pass uses). */
    maxConcurrency: z.number().int().min(1).max(10_000).default(100),
    /** Days between passes; the scheduled run in between does nothing unless a deadline is near. */
    intervalDays: z.number().int().min(1).max(30).default(1),
    /** A queued request due (statutory deadline) within this many days forces a pass at the next scheduled run. */
    deadlineMarginDays: z.number().int().min(0).max(29).default(7),
    /** Days a request has to be answered, from its receipt (PIPEDA s.8(3), Quebec s.32: 30). */
    responseDays: z.number().int().min(1).max(90).default(30),
  })
  .strict();
export type LogPassSettings = z.infer<typeof LogPassSettingsSchema>;

/**
 * Loads the reference dataset into the operator's stores (DynamoDB tables, S3 buckets) through
 * the standard SDK clients, and writes `DIR/reference/subjects.json`: every subject's
 * identifiers, flags and expected counts per store, for tests, the demo and benchmarks.
 *
 * Works against any endpoint the clients point at: DynamoDB Local and the project's S3 server
 * locally, or real AWS (bucket names are then taken, so that is for a renamed copy).
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import { createOperatorResources, emptyOperatorResources, operatorResourcesHoldData, type OperatorResourcesResult } from './infrastructure';
import { DatasetError, generateDataset, resolveParams, type GenerateOptions, type Scale, type SubjectsReport } from './generator';
import { Pool, loadTables, putLog, putMedia } from './seed-writers';

export interface SeedOptions extends Omit<GenerateOptions, 'scale'> {
  /** The data directory; subjects.json goes to `<dataDir>/reference/subjects.json`. */
  readonly dataDir: string;
  readonly scale: Scale | string;
  readonly clients: { readonly dynamodb: DynamoDBClient; readonly s3: S3Client };
  /**
   * The stores already hold data (an earlier seed, or an erasure run): without `replace` the
   * seed refuses, since new versions on top of old ones would not match subjects.json; with it
   * the tables are recreated and the buckets emptied first (legal holds lifted).
   */
  readonly replace?: boolean;
  /** Parallel requests (defaults: 8 BatchWriteItem, 16 media puts, 4 log objects). */
  readonly concurrency?: { readonly dynamodb?: number; readonly media?: number; readonly logs?: number };
  /** Progress, for a CLI: phase and how many units are done (tables, media and logs load side by side). */
  readonly onProgress?: (event: { phase: 'resources' | 'tables' | 'media' | 'logs' | 'report'; done: number; total?: number }) => void;
}

export interface SeedSummary {
  readonly scale: Scale;
  readonly seed: number | string;
  readonly asOf: string;
  readonly subjects: number;
  readonly subjectsFile: string;
  readonly resources: OperatorResourcesResult;
  /** Items written per store. */
  readonly tables: Record<string, number>;
  readonly media: Record<string, { objects: number; versions: number; deleteMarkers: number; legalHolds: number }>;
  readonly logs: Record<string, { objects: number; records: number; uncompressedBytes: number; storedBytes: number }>;
  readonly logBytes: { readonly uncompressed: number; readonly stored: number };
  readonly durationMs: number;
  /** Time of each phase; tables, media and logs run concurrently, so these overlap. */
  readonly phaseMs: Record<'resources' | 'tables' | 'media' | 'logs' | 'report', number>;
}

/**
 * Creates the operator's resources and loads the reference dataset into them. Same options →
 * same item and object bytes and the same subjects.json.
 */
export async function seedReferenceDataset(opts: SeedOptions): Promise<SeedSummary> {
  const started = performance.now();
  // Validate everything (scale, seed, asOf...) before touching any store.
  const params = resolveParams(opts);
  const ds = generateDataset(opts);
  const progress = opts.onProgress ?? (() => {});
  const phaseMs = { resources: 0, tables: 0, media: 0, logs: 0, report: 0 };
  const timed = async <T>(phase: keyof typeof phaseMs, run: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    try {
      return await run();
    } finally {
      phaseMs[phase] = Math.round(performance.now() - t0);
    }
  };
  // When one phase fails the others stop at their next step instead of running on unobserved.
  let failed = false;
  const guard = () => {
    if (failed) throw new Error('seeding stopped: another phase failed');
  };

  progress({ phase: 'resources', done: 0 });
  const resources = await timed('resources', async () => {
    if (await operatorResourcesHoldData(opts.clients)) {
      if (!opts.replace) {
        throw new DatasetError('the operator tables and buckets already hold data: seed into a fresh data directory, or replace what is there (replace: true)');
      }
      await emptyOperatorResources(opts.clients);
    }
    return createOperatorResources(opts.clients);
  });

  const loadAllTables = () => {
    const doc = DynamoDBDocumentClient.from(opts.clients.dynamodb, { marshallOptions: { removeUndefinedValues: true } });
    return loadTables(doc, ds.tableItems(), opts.concurrency?.dynamodb ?? 8, (done) => {
      guard();
      progress({ phase: 'tables', done });
    });
  };

  const media: SeedSummary['media'] = {};
  const loadMedia = async () => {
    const pool = new Pool(opts.concurrency?.media ?? 16);
    let done = 0;
    for (const o of ds.mediaObjects()) {
      guard();
      const m = (media[o.store] ??= { objects: 0, versions: 0, deleteMarkers: 0, legalHolds: 0 });
      m.objects++;
      for (const v of o.versions) {
        if (v.deleteMarker) m.deleteMarkers++;
        else {
          m.versions++;
          if (v.legalHold) m.legalHolds++;
        }
      }
      await pool.add(async () => {
        await putMedia(opts.clients.s3, o);
        progress({ phase: 'media', done: ++done });
      });
    }
    await pool.drain();
  };

  const logObjects = ds.logObjects();
  const stored = new Map<string, number>();
  const loadLogs = async () => {
    const pool = new Pool(opts.concurrency?.logs ?? 4);
    let done = 0;
    for (const o of logObjects) {
      guard();
      await pool.add(async () => {
        stored.set(o.key, await putLog(opts.clients.s3, o));
        progress({ phase: 'logs', done: ++done, total: logObjects.length });
      });
    }
    await pool.drain();
  };

  // DynamoDB Local, the S3 endpoint and log generation each keep a core busy: run them side by side.
  const fail = (err: unknown): never => {
    failed = true;
    throw err;
  };
  const [tables] = await Promise.all([
    timed('tables', loadAllTables).catch(fail),
    timed('media', loadMedia).catch(fail),
    timed('logs', loadLogs).catch(fail),
  ]);

  // Every part was consumed in full above, so the report only assembles the counts.
  const reportStarted = performance.now();
  const report = ds.report();
  const dir = path.join(opts.dataDir, 'reference');
  await mkdir(dir, { recursive: true });
  const subjectsFile = path.join(dir, 'subjects.json');
  await writeFile(`${subjectsFile}.tmp`, serializeReport(report));
  await rename(`${subjectsFile}.tmp`, subjectsFile);
  progress({ phase: 'report', done: 1, total: 1 });
  phaseMs.report = Math.round(performance.now() - reportStarted);

  const logs: SeedSummary['logs'] = {};
  for (const o of logObjects) {
    const l = (logs[o.store] ??= { objects: 0, records: 0, uncompressedBytes: 0, storedBytes: 0 });
    l.objects++;
    l.storedBytes += stored.get(o.key) ?? 0;
  }
  for (const [store, l] of Object.entries(logs)) {
    const t = report.totals[store as 'sip-logs' | 'app-logs'];
    l.records = t.records;
    l.uncompressedBytes = t.uncompressedBytes;
  }
  return {
    scale: params.scale,
    seed: params.seedInput,
    asOf: params.asOfIso,
    subjects: report.subjects.length,
    subjectsFile,
    resources,
    tables,
    media,
    logs,
    logBytes: {
      uncompressed: Object.values(logs).reduce((a, l) => a + l.uncompressedBytes, 0),
      stored: Object.values(logs).reduce((a, l) => a + l.storedBytes, 0),
    },
    durationMs: Math.round(performance.now() - started),
    phaseMs,
  };
}

/** subjects.json as written: two-space indented JSON with a final newline. */
export function serializeReport(report: SubjectsReport): string {
  return JSON.stringify(report, null, 2) + '\n';
}

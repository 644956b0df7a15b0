/**
 * Deployment configuration read by every handler: the data map, the product's own resources
 * and its settings. One JSON document, validated once per cold start (and again when the file
 * changes, which only happens locally).
 */
import fs from 'node:fs';
import { z } from 'zod';
import { DataMapSchema, formatPath, type DataMap } from './datamap';
import { ConfigError } from './errors';
import { DeadlineSettingsSchema } from './deadline-settings';
import { MAX_SWEEP_ENTRIES } from './sweep-limits';

export { MAX_SWEEP_ENTRIES };

/** Default of Settings.sweepMaxEntries: a round figure under the maximum. */
export const DEFAULT_SWEEP_MAX_ENTRIES = 250;

export const SettingsSchema = z
  .object({
    /** DynamoDB table holding requests, plans, approvals, holds, deferrals and receipts. */
    ledgerTable: z.string().min(3),
    /** Bucket for identities, findings and plans of running requests (personal data: KMS, expiring). */
    workBucket: z.string().min(3),
    /** Bucket for portability bundles and access reports. */
    bundleBucket: z.string().min(3),
    /** A verification older than this is stale and the request is refused. */
    verificationMaxAgeDays: z.number().int().positive().default(30),
    /** Erasure waits for `dsr approve` of the stored plan. */
    approvalRequired: z.boolean().default(false),
    /** Lifetime of presigned bundle URLs. */
    bundleUrlExpirySeconds: z.number().int().min(60).max(604800).default(900),
    /** Concurrency of object scans and writes inside one connector call. */
    connectorConcurrency: z.number().int().min(1).max(64).default(8),
    /**
     * (request, store) entries one retention sweep run erases; the rest wait for the next run.
     * A run carries its entries in its state (256 KB) and history (25,000 events): the maximum
     * keeps both even with every entry at its longest (see sweep-limits.ts).
     */
    sweepMaxEntries: z.number().int().min(1).max(MAX_SWEEP_ENTRIES).default(DEFAULT_SWEEP_MAX_ENTRIES),
    /** Statutory response periods per jurisdiction (functions/core/deadline-settings.ts); absent: 30 days (CA, CA-QC). */
    deadlines: DeadlineSettingsSchema.optional(),
  })
  .strict();
export type Settings = z.infer<typeof SettingsSchema>;

export const DsrConfigSchema = z
  .object({
    dataMap: DataMapSchema,
    settings: SettingsSchema,
    /** Retention schedule overrides; absent = the default schedule. */
    retention: z.unknown().optional(),
  })
  .strict();
export type DsrConfig = z.infer<typeof DsrConfigSchema> & { dataMap: DataMap };

export function parseConfig(input: unknown, source = 'configuration'): DsrConfig {
  const result = DsrConfigSchema.safeParse(input);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  - ${formatPath(i.path)}: ${i.message}`);
    throw new ConfigError(`invalid ${source}:\n${lines.join('\n')}`);
  }
  return result.data;
}

/**
 * Settings a deployment may leave out of the file and pass as environment variables instead:
 * on AWS the resource names are CloudFormation values, unknown when the file is bundled into
 * the functions. A value in the file wins, so a complete file behaves as before.
 */
export const SETTINGS_FROM_ENV = { ledgerTable: 'DSR_LEDGER_TABLE', workBucket: 'DSR_WORK_BUCKET', bundleBucket: 'DSR_BUNDLE_BUCKET' } as const;

/** Fills the settings the file left out from SETTINGS_FROM_ENV; anything else is left for parseConfig to judge. */
export function withEnvironmentSettings(raw: unknown, env: NodeJS.ProcessEnv = process.env): unknown {
  if (typeof raw !== 'object' || raw === null) return raw;
  const settings = (raw as { settings?: unknown }).settings;
  if (typeof settings !== 'object' || settings === null) return raw;
  const filled: Record<string, unknown> = { ...settings };
  for (const [key, name] of Object.entries(SETTINGS_FROM_ENV)) {
    if (filled[key] === undefined && env[name]) filled[key] = env[name];
  }
  return { ...raw, settings: filled };
}

let cached: { file: string; mtimeMs: number; config: DsrConfig } | undefined;

/** The configuration named by DSR_CONFIG_FILE (bundled beside the handler on AWS). */
export function loadConfig(file = process.env.DSR_CONFIG_FILE ?? `${__dirname}/dsr-config.json`): DsrConfig {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    throw new ConfigError(`configuration file not found: ${file} (set DSR_CONFIG_FILE)`);
  }
  if (cached && cached.file === file && cached.mtimeMs === stat.mtimeMs) return cached.config;
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`configuration file ${file} is not valid JSON: ${(err as Error).message}`);
  }
  const config = parseConfig(withEnvironmentSettings(raw), file);
  cached = { file, mtimeMs: stat.mtimeMs, config };
  return config;
}

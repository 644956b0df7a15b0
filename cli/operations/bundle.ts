/**
 * A request's bundle (portability) or access report: where it is, its hash (and size) from the
 * receipt, and a presigned GET URL that expires. One implementation for `dsr bundle` and the
 * console's API; the URL is signed with the caller's own credentials (support's policy reads
 * bundles/ and reports/), so it grants no more than the caller has.
 */
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import fs from 'node:fs';
import { receiptForRequest } from '../../functions/core/receipt';
import { engineFiles } from '../../local/state';
import { CliError, EXIT, type Clients } from '../context';

const DEFAULT_EXPIRY_SECONDS = 900;
/** SigV4 presigned URLs live at most 7 days. */
const MAX_EXPIRY_SECONDS = 604800;

export function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > MAX_EXPIRY_SECONDS) throw new CliError(`--expires-in: must be a whole number of seconds from 1 to ${MAX_EXPIRY_SECONDS}, got ${JSON.stringify(value)}`);
  return n;
}

/**
 * The deployment's bundleUrlExpirySeconds: DSR_BUNDLE_URL_EXPIRY_SECONDS, else the settings of
 * the configuration file (a local engine's, or DSR_CONFIG_FILE), else 15 minutes.
 */
export function configuredExpiry(c: Pick<Clients, 'deployment'>, env: NodeJS.ProcessEnv = process.env): number {
  if (env.DSR_BUNDLE_URL_EXPIRY_SECONDS) return seconds(env.DSR_BUNDLE_URL_EXPIRY_SECONDS);
  const file = c.deployment.localDir ? engineFiles(c.deployment.localDir).config : env.DSR_CONFIG_FILE;
  if (file && fs.existsSync(file)) {
    try {
      const configured = (JSON.parse(fs.readFileSync(file, 'utf8')) as { settings?: { bundleUrlExpirySeconds?: unknown } }).settings?.bundleUrlExpirySeconds;
      if (typeof configured === 'number') return configured;
    } catch {
      // An unreadable file is the engine's problem, not this command's: use the default.
    }
  }
  return DEFAULT_EXPIRY_SECONDS;
}

export interface BundleRef {
  readonly key: string;
  readonly sha256: string;
  readonly type: string;
  /** Absent in a receipt from before the size was recorded. */
  readonly bytes?: number;
}

export async function bundleOf(c: Clients, requestId: string): Promise<BundleRef> {
  const record = await c.ledger.getRequest(requestId);
  if (!record) throw new CliError(`no request ${requestId} in the ledger`);
  const type = record.request.type;
  if (type !== 'access' && type !== 'portability') throw new CliError(`request ${requestId} is a${type === 'erasure' ? 'n' : ''} ${type} request: only access and portability requests have a bundle`);
  const receipt = await receiptForRequest(c, requestId);
  const bundle = receipt ? (JSON.parse(receipt.body) as { bundle?: { key?: string; sha256?: string; bytes?: number } | null }).bundle : undefined;
  if (!bundle?.key || !bundle.sha256) throw new CliError(`request ${requestId} has no bundle yet (status: ${record.status}); follow it with: npx dsr status ${requestId}`, EXIT.failed);
  return { key: bundle.key, sha256: bundle.sha256, type, ...(typeof bundle.bytes === 'number' ? { bytes: bundle.bytes } : {}) };
}

/** A presigned GET URL of the bundle, for `expiresIn` seconds (default: the deployment's bundleUrlExpirySeconds). */
export async function presignBundle(c: Clients, ref: BundleRef, expiresIn?: number): Promise<{ url: string; expiresIn: number; expiresAt: string }> {
  const lifetime = expiresIn ?? configuredExpiry(c);
  const url = await getSignedUrl(c.s3, new GetObjectCommand({ Bucket: c.deployment.bundleBucket, Key: ref.key }), { expiresIn: lifetime });
  return { url, expiresIn: lifetime, expiresAt: new Date(Date.now() + lifetime * 1000).toISOString() };
}

/**
 * `dsr bundle <requestId> [--out FILE] [--expires-in SECONDS]`: the portability bundle (or the
 * access report) of a request, downloaded and checked against the SHA-256 in its receipt, or
 * as a presigned URL that expires. `dsr bundle verify FILE`: checks a bundle offline.
 */
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { Command } from 'commander';
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { HashingStream } from '../../functions/core/bundle/zip-stream';
import { verifyBundle } from '../../functions/core/bundle/verify';
import { receiptForRequest } from '../../functions/core/receipt';
import { engineFiles } from '../../local/state';
import { CliError, EXIT, type Clients, type Printer } from '../context';
import { withClients } from '../executions';

const DEFAULT_EXPIRY_SECONDS = 900;
/** SigV4 presigned URLs live at most 7 days. */
const MAX_EXPIRY_SECONDS = 604800;

function seconds(value: string): number {
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

interface BundleRef {
  readonly key: string;
  readonly sha256: string;
  readonly type: string;
}

async function bundleOf(c: Clients, requestId: string): Promise<BundleRef> {
  const record = await c.ledger.getRequest(requestId);
  if (!record) throw new CliError(`no request ${requestId} in the ledger`);
  const type = record.request.type;
  if (type !== 'access' && type !== 'portability') throw new CliError(`request ${requestId} is a${type === 'erasure' ? 'n' : ''} ${type} request: only access and portability requests have a bundle`);
  const receipt = await receiptForRequest(c, requestId);
  const bundle = receipt ? (JSON.parse(receipt.body) as { bundle?: { key?: string; sha256?: string } | null }).bundle : undefined;
  if (!bundle?.key || !bundle.sha256) throw new CliError(`request ${requestId} has no bundle yet (status: ${record.status}); follow it with: npx dsr status ${requestId}`, EXIT.failed);
  return { key: bundle.key, sha256: bundle.sha256, type };
}

async function download(c: Clients, ref: BundleRef, out: string): Promise<{ bytes: number; sha256: string }> {
  let body: Readable;
  try {
    body = (await c.s3.send(new GetObjectCommand({ Bucket: c.deployment.bundleBucket, Key: ref.key }))).Body as Readable;
  } catch (err) {
    if ((err as { name?: string }).name === 'NoSuchKey') throw new CliError(`${ref.key} is no longer in the bundle bucket (bundles expire); start a new request`, EXIT.failed);
    throw err;
  }
  const partial = `${out}.part`;
  const hasher = new HashingStream();
  try {
    await pipeline(body, hasher, fs.createWriteStream(partial));
  } catch (err) {
    fs.rmSync(partial, { force: true });
    throw err;
  }
  if (hasher.digest !== ref.sha256) {
    fs.rmSync(partial, { force: true });
    throw new CliError(`${ref.key}: SHA-256 ${hasher.digest} does not match the receipt's ${ref.sha256}; not written`, EXIT.failed);
  }
  fs.renameSync(partial, out);
  return { bytes: hasher.bytes, sha256: hasher.digest };
}

export function bundleCommand(printer: Printer, setExit: (code: number) => void): Command {
  const bundle = new Command('bundle')
    .description('download a request\'s portability bundle (or access report), or print a presigned URL for it')
    .argument('[requestId]')
    .option('--out <file>', 'download to FILE (checked against the receipt\'s SHA-256) instead of printing a URL')
    .option('--expires-in <seconds>', 'lifetime of the presigned URL (default: the deployment\'s bundleUrlExpirySeconds)')
    .option('--json', 'print one JSON object')
    .option('--data <dir>', 'a local engine\'s directory')
    .action(async (requestId: string | undefined, opts: { out?: string; expiresIn?: string; json?: boolean; data?: string }) => {
      if (!requestId) throw new CliError('give a request id, or use: dsr bundle verify FILE');
      const expiresIn = opts.expiresIn === undefined ? undefined : seconds(opts.expiresIn);
      await withClients(opts, async (c) => {
        const ref = await bundleOf(c, requestId);
        if (opts.out) {
          const out = path.resolve(opts.out);
          const got = await download(c, ref, out);
          if (opts.json) printer.out(JSON.stringify({ requestId, key: ref.key, file: out, bytes: got.bytes, sha256: got.sha256 }));
          else printer.out(`wrote ${out} (${got.bytes} bytes, sha256 ${got.sha256}, matches the receipt)${ref.type === 'portability' ? `\ncheck it with: npx dsr bundle verify ${opts.out}` : ''}`);
          return;
        }
        const lifetime = expiresIn ?? configuredExpiry(c);
        const url = await getSignedUrl(c.s3, new GetObjectCommand({ Bucket: c.deployment.bundleBucket, Key: ref.key }), { expiresIn: lifetime });
        const expiresAt = new Date(Date.now() + lifetime * 1000).toISOString();
        if (opts.json) printer.out(JSON.stringify({ requestId, key: ref.key, sha256: ref.sha256, url, expiresIn: lifetime, expiresAt }));
        else printer.out(`${url}\n(expires in ${lifetime} s, at ${expiresAt}; sha256 ${ref.sha256})`);
      });
    });
  bundle
    .command('verify')
    .description('check a bundle: the bag (manifests, hashes, Payload-Oxum, tag manifest) and every JSON file against its schema; exit 1 if broken')
    .argument('<file>')
    .option('--json', 'print one JSON object')
    .action(async (file: string, opts: { json?: boolean }) => {
      if (!fs.existsSync(file)) throw new CliError(`no such file: ${file}`);
      const check = await verifyBundle(file);
      if (opts.json) printer.out(JSON.stringify(check));
      else if (check.ok) printer.out(`bundle intact: ${check.files} files (${check.payloadFiles} payload), every hash matches, ${check.jsonValidated} JSON files valid against their schemas`);
      else for (const p of check.problems) printer.out(p);
      if (!check.ok) setExit(EXIT.failed);
    });
  return bundle;
}

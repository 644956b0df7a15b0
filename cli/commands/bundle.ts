/**
 * `dsr bundle <requestId> [--out FILE] [--expires-in SECONDS]`: the portability bundle (or the
 * access report) of a request, downloaded and checked against the SHA-256 in its receipt, or
 * as a presigned URL that expires. `dsr bundle verify FILE`: checks a bundle offline.
 */
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { Command } from 'commander';
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { HashingStream } from '../../functions/core/bundle/zip-stream';
import { verifyBundle } from '../../functions/core/bundle/verify';
import { CliError, EXIT, type Clients, type Printer } from '../context';
import { withClients } from '../executions';
import { bundleOf, presignBundle, seconds, type BundleRef } from '../operations/bundle';

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
        const { url, expiresIn: lifetime, expiresAt } = await presignBundle(c, ref, expiresIn);
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

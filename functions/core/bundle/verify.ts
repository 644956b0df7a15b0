/**
 * `dsr bundle verify FILE`: reads a bundle ZIP once, streaming, and checks that it is one bag
 * (RFC 8493) whose manifests, hashes and Payload-Oxum agree with its files, and that every JSON
 * file of the payload validates against the JSON Schema beside it (ajv, draft 2020-12). Every
 * problem is reported, each naming its file.
 */
import Ajv2020 from 'ajv/dist/2020';
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import yauzl from 'yauzl';
import { checkBag } from './bagit';

export interface BundleCheck {
  readonly ok: boolean;
  readonly problems: string[];
  /** Files in the bag (tag files included) and payload files under data/. */
  readonly files: number;
  readonly payloadFiles: number;
  readonly jsonValidated: number;
  readonly base?: string;
}

/** JSON and tag files are kept for the checks; anything larger than this is hashed only. */
const KEEP_LIMIT = 256 * 1024 * 1024;

function openZip(file: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => yauzl.open(file, { lazyEntries: true, autoClose: true, validateEntrySizes: true }, (err, zip) => (err ? reject(err) : resolve(zip!))));
}

function openEntry(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<Readable> {
  return new Promise((resolve, reject) => zip.openReadStream(entry, (err, stream) => (err ? reject(err) : resolve(stream!))));
}

async function readEntry(stream: Readable, keep: boolean): Promise<{ size: number; sha256: string; content?: Buffer }> {
  const hash = createHash('sha256');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    hash.update(chunk);
    size += chunk.length;
    if (keep) chunks.push(chunk);
  }
  return { size, sha256: hash.digest('hex'), ...(keep ? { content: Buffer.concat(chunks) } : {}) };
}

export async function verifyBundle(file: string): Promise<BundleCheck> {
  const problems: string[] = [];
  let zip: yauzl.ZipFile;
  try {
    zip = await openZip(file);
  } catch (err) {
    return { ok: false, problems: [`${file}: not a readable ZIP (${(err as Error).message})`], files: 0, payloadFiles: 0, jsonValidated: 0 };
  }
  const files = new Map<string, { size: number; sha256: string }>();
  const contents = new Map<string, Buffer>();
  const unreadable = new Set<string>();
  const bases = new Set<string>();

  await new Promise<void>((resolve) => {
    zip.on('entry', (entry: yauzl.Entry) => {
      void (async () => {
        const name = entry.fileName;
        const slash = name.indexOf('/');
        if (name.endsWith('/')) return zip.readEntry();
        if (slash <= 0) {
          problems.push(`${name}: outside the bag's base directory`);
          return zip.readEntry();
        }
        bases.add(name.slice(0, slash));
        const relative = name.slice(slash + 1);
        const keep = (relative.endsWith('.json') || !relative.startsWith('data/')) && entry.uncompressedSize <= KEEP_LIMIT;
        try {
          const read = await readEntry(await openEntry(zip, entry), keep);
          files.set(relative, { size: read.size, sha256: read.sha256 });
          if (read.content) contents.set(relative, read.content);
        } catch (err) {
          unreadable.add(relative);
          files.set(relative, { size: entry.uncompressedSize, sha256: 'unreadable' });
          problems.push(`${relative}: cannot be read (${(err as Error).message}): the file was altered or the ZIP is damaged`);
        }
        zip.readEntry();
      })();
    });
    zip.once('end', () => resolve());
    zip.once('error', (err: Error) => {
      problems.push(`${file}: damaged ZIP (${err.message})`);
      resolve();
    });
    zip.readEntry();
  });

  if (bases.size > 1) problems.push(`${file}: more than one base directory (${[...bases].sort().join(', ')}); a bag serialization holds exactly one`);
  const text = (path: string) => contents.get(path)?.toString('utf8');
  for (const p of checkBag(files, text)) {
    // An unreadable file is already reported once; its hash cannot match anything.
    if (![...unreadable].some((u) => p.startsWith(`${u}:`))) problems.push(p);
  }

  let jsonValidated = 0;
  for (const [path, content] of contents) {
    if (!path.startsWith('data/') || !path.endsWith('.json') || path.endsWith('.schema.json')) continue;
    const schemaPath = path.replace(/\.json$/, '.schema.json');
    const schemaText = contents.get(schemaPath);
    if (!schemaText) {
      problems.push(`${path}: no JSON Schema beside it (${schemaPath})`);
      continue;
    }
    let data: unknown;
    let schema: object;
    try {
      data = JSON.parse(content.toString('utf8'));
    } catch (err) {
      problems.push(`${path}: not valid JSON (${(err as Error).message})`);
      continue;
    }
    try {
      schema = JSON.parse(schemaText.toString('utf8')) as object;
    } catch (err) {
      problems.push(`${schemaPath}: not valid JSON (${(err as Error).message})`);
      continue;
    }
    try {
      const validate = new Ajv2020({ allErrors: true, strict: false }).compile(schema);
      if (!validate(data)) {
        for (const e of (validate.errors ?? []).slice(0, 10)) problems.push(`${path}: ${e.instancePath || '(root)'} ${e.message ?? 'does not match its schema'} (${schemaPath})`);
      }
      jsonValidated++;
    } catch (err) {
      problems.push(`${schemaPath}: not a usable JSON Schema (${(err as Error).message})`);
    }
  }
  return {
    ok: problems.length === 0,
    problems,
    files: files.size,
    payloadFiles: [...files.keys()].filter((p) => p.startsWith('data/')).length,
    jsonValidated,
    ...(bases.size === 1 ? { base: [...bases][0] } : {}),
  };
}

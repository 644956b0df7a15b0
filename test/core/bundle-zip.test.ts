/** The streaming ZIP writer and `verifyBundle`, on files in a temp directory (no S3). */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BAG_INFO, BAGIT, BAGIT_TXT, bagInfoText, MANIFEST, manifestText, payloadOxum, TAG_MANIFEST, type HashedFile } from '../../functions/core/bundle/bagit';
import { verifyBundle } from '../../functions/core/bundle/verify';
import { StreamingZip } from '../../functions/core/bundle/zip-stream';
import { flipByte, readZip, unzipTest } from './bundle-support';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dsr-zip-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** Chunks of deterministic bytes, produced lazily. */
function bytes(total: number, seed = 1): Readable {
  let left = total;
  let x = seed;
  return new Readable({
    read() {
      if (left === 0) return this.push(null);
      const n = Math.min(left, 64 * 1024);
      const chunk = Buffer.alloc(n);
      for (let i = 0; i < n; i++) chunk[i] = (x = (x * 1103515245 + 12345) & 0xff);
      left -= n;
      this.push(chunk);
    },
  });
}

/** A bag of the given payload written with StreamingZip, the way the bundle writes one. */
async function writeBag(file: string, payload: Array<{ path: string; data: Buffer | string } | { path: string; stream: () => Readable; size: number }>, opts: { oxum?: string } = {}) {
  const zip = new StreamingZip('req-1', new Date('2026-11-02T12:00:00Z'));
  const out = fs.createWriteStream(file);
  const written = pipeline(zip.output, out);
  const files: HashedFile[] = [];
  const tags: HashedFile[] = [{ path: BAGIT, ...(await zip.addBuffer(BAGIT, BAGIT_TXT)) }];
  for (const p of payload) {
    const r = 'data' in p ? await zip.addBuffer(p.path, p.data) : await zip.addStream(p.path, p.stream, { compress: false, size: p.size });
    files.push({ path: p.path, ...r });
  }
  tags.push({ path: MANIFEST, ...(await zip.addBuffer(MANIFEST, manifestText(files))) });
  tags.push({ path: BAG_INFO, ...(await zip.addBuffer(BAG_INFO, bagInfoText([['Payload-Oxum', opts.oxum ?? payloadOxum(files)]]))) });
  await zip.addBuffer(TAG_MANIFEST, manifestText(tags));
  const archive = await zip.finish();
  await written;
  return { files, archive };
}

describe('StreamingZip', () => {
  it('streams entries one after the other, hashing each and the whole archive, into a ZIP unzip accepts', async () => {
    const file = path.join(dir, 'plain.zip');
    const { files, archive } = await writeBag(file, [
      { path: 'data/a.json', data: '{"a":1}\n' },
      { path: 'data/media/tone é.wav', stream: () => bytes(3 * 1024 * 1024 + 17), size: 3 * 1024 * 1024 + 17 },
      { path: 'data/a.schema.json', data: '{"type":"object"}\n' },
    ]);
    const test = unzipTest(file);
    expect(test.out).toContain('No errors detected');
    expect(test.status).toBe(0);
    expect(archive.sha256).toBe(sha(fs.readFileSync(file)));
    expect(archive.size).toBe(fs.statSync(file).size);
    const entries = await readZip(file);
    expect(entries.map((e) => e.name)).toEqual(['req-1/bagit.txt', 'req-1/data/a.json', 'req-1/data/media/tone é.wav', 'req-1/data/a.schema.json', 'req-1/manifest-sha256.txt', 'req-1/bag-info.txt', 'req-1/tagmanifest-sha256.txt']);
    for (const f of files) expect(sha(entries.find((e) => e.name === `req-1/${f.path}`)!.data)).toBe(f.sha256);
    expect((await verifyBundle(file)).problems).toEqual([]);
  });

  it('fails the archive, not just the entry, when a source stream breaks or has the wrong size', async () => {
    const zip = new StreamingZip('req-2', new Date());
    zip.output.resume();
    const broken = new Readable({
      read() {
        this.destroy(new Error('connection reset'));
      },
    });
    await expect(zip.addStream('data/x.wav', () => broken)).rejects.toThrow('connection reset');
    await expect(zip.addBuffer('data/y.txt', 'y')).rejects.toThrow('connection reset');

    const short = new StreamingZip('req-3', new Date());
    short.output.resume();
    await expect(short.addStream('data/z.wav', () => bytes(10), { size: 11 }).then(() => short.finish())).rejects.toThrow(/unexpected number of bytes/);
  });
});

describe('verifyBundle', () => {
  it('names the file whose byte was altered, and a JSON file that breaks its schema', async () => {
    const file = path.join(dir, 'bag.zip');
    await writeBag(file, [
      { path: 'data/s/s.json', data: '{"n":"not a number"}\n' },
      { path: 'data/s/s.schema.json', data: JSON.stringify({ $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object', properties: { n: { type: 'integer' } } }) },
      { path: 'data/s/orphan.json', data: '[]' },
      { path: 'data/s/files/rec.wav', stream: () => bytes(5000, 7), size: 5000 },
    ]);
    const check = await verifyBundle(file);
    expect(check.ok).toBe(false);
    expect(check.problems).toEqual([
      expect.stringMatching(/^data\/s\/s\.json: \/n must be integer/),
      'data/s/orphan.json: no JSON Schema beside it (data/s/orphan.schema.json)',
    ]);

    const good = path.join(dir, 'good.zip');
    await writeBag(good, [{ path: 'data/s/files/rec.wav', stream: () => bytes(5000, 7), size: 5000 }]);
    expect((await verifyBundle(good)).ok).toBe(true);
    const entry = (await readZip(good)).find((e) => e.name.endsWith('rec.wav'))!;
    const altered = path.join(dir, 'altered.zip');
    flipByte(good, entry, altered, 100);
    const broken = await verifyBundle(altered);
    expect(broken.ok).toBe(false);
    expect(broken.problems).toEqual(['data/s/files/rec.wav: SHA-256 does not match manifest-sha256.txt (line 1): the file was altered']);
    expect(unzipTest(altered).status).not.toBe(0);
  });

  it('reports a wrong Payload-Oxum and a file that is not a ZIP', async () => {
    const file = path.join(dir, 'oxum.zip');
    await writeBag(file, [{ path: 'data/a.txt', data: 'abc' }], { oxum: '4.1' });
    expect((await verifyBundle(file)).problems).toEqual(['bag-info.txt: Payload-Oxum is 4.1, the payload is 3.1 (octets.files)']);
    const junk = path.join(dir, 'junk.zip');
    fs.writeFileSync(junk, 'not a zip at all');
    expect((await verifyBundle(junk)).problems).toEqual([expect.stringMatching(/not a readable ZIP/)]);
  });
});

/** Helpers the bundle tests share: Debian's unzip, reading every entry of a ZIP, flipping a byte of one entry. */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import yauzl from 'yauzl';

/** `unzip -t FILE`; fails the test with the install hint when unzip is not on the machine. */
export function unzipTest(file: string): { status: number | null; out: string } {
  const r = spawnSync('unzip', ['-t', file], { encoding: 'utf8' });
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') throw new Error('unzip is not installed: apt-get install unzip (Debian) so that `unzip -t` can check the bundle');
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

export interface ZipEntry {
  readonly name: string;
  readonly data: Buffer;
  readonly offset: number;
  readonly compressedSize: number;
  readonly method: number;
  readonly dataStart: number;
}

/** Every file entry with its bytes (small bundles only). */
export function readZip(file: string): Promise<ZipEntry[]> {
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true }, (err, zip) => {
      if (err || !zip) return reject(err);
      const out: ZipEntry[] = [];
      zip.on('entry', (entry: yauzl.Entry) => {
        if (entry.fileName.endsWith('/')) return zip.readEntry();
        zip.openReadStream(entry, (e, stream) => {
          if (e || !stream) return reject(e);
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('error', reject);
          stream.on('end', () => {
            const header = Buffer.alloc(30);
            const fd = fs.openSync(file, 'r');
            fs.readSync(fd, header, 0, 30, entry.relativeOffsetOfLocalHeader);
            fs.closeSync(fd);
            const dataStart = entry.relativeOffsetOfLocalHeader + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
            out.push({ name: entry.fileName, data: Buffer.concat(chunks), offset: entry.relativeOffsetOfLocalHeader, compressedSize: entry.compressedSize, method: entry.compressionMethod, dataStart });
            zip.readEntry();
          });
        });
      });
      zip.on('end', () => resolve(out));
      zip.on('error', reject);
      zip.readEntry();
    });
  });
}

/** A copy of `file` with one byte of `entry`'s stored data changed (so its CRC and hash no longer match). */
export function flipByte(file: string, entry: ZipEntry, copy: string, at = 0): void {
  const bytes = fs.readFileSync(file);
  bytes[entry.dataStart + Math.min(at, entry.compressedSize - 1)] ^= 0x01;
  fs.writeFileSync(copy, bytes);
}

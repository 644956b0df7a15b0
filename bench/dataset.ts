/**
 * The benchmark's log dataset: the reference generator's log objects written once to
 * `.dsr/bench/<name>/objects/<key>` (as stored: gzip or plain) with `subjects.json`, and reused
 * by later runs with the same parameters.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { generateDataset, type LogObject, type SubjectsReport } from '../examples/voip-operator/generator';

export interface LogDataset {
  readonly dir: string;
  readonly report: SubjectsReport;
  readonly objects: ReadonlyArray<{ readonly store: string; readonly key: string; readonly file: string; readonly gzip: boolean; readonly format: 'jsonl' | 'csv'; readonly storedBytes: number }>;
}

export interface LogDatasetOptions {
  readonly root: string;
  readonly scale: string;
  readonly seed: number;
  /** Total uncompressed log bytes (undefined: the scale's default). */
  readonly logBytes?: number;
  /** One extra SIP object of about this many uncompressed bytes (memory benchmark). */
  readonly hugeLogObjectBytes?: number;
  readonly onProgress?: (done: number, total: number) => void;
}

export async function ensureLogDataset(o: LogDatasetOptions): Promise<LogDataset> {
  const name = `logs-${o.scale}-${o.seed}-${o.logBytes ?? 'default'}${o.hugeLogObjectBytes ? `-huge${o.hugeLogObjectBytes}` : ''}`;
  const dir = path.join(o.root, name);
  const manifest = path.join(dir, 'manifest.json');
  if (fs.existsSync(manifest)) return JSON.parse(fs.readFileSync(manifest, 'utf8')) as LogDataset;
  fs.rmSync(dir, { recursive: true, force: true });
  const ds = generateDataset({ scale: o.scale, seed: o.seed, logBytes: o.logBytes, hugeLogObjectBytes: o.hugeLogObjectBytes });
  const logs: LogObject[] = ds.logObjects();
  const objects: Array<LogDataset['objects'][number]> = [];
  let done = 0;
  for (const obj of logs) {
    const file = path.join(dir, 'objects', obj.key);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    await pipeline(obj.body(), fs.createWriteStream(file));
    objects.push({ store: obj.store, key: obj.key, file, gzip: obj.compression === 'gzip', format: obj.format, storedBytes: fs.statSync(file).size });
    o.onProgress?.(++done, logs.length);
  }
  const report = ds.report();
  const result: LogDataset = { dir, report, objects };
  fs.writeFileSync(manifest, JSON.stringify(result));
  return result;
}

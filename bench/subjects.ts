/**
 * Which of the reference dataset's subjects a bench pass looks for, and the log stores of the
 * data map it reads them from.
 */
import fs from 'node:fs';
import path from 'node:path';
import { processRecords } from '../functions/connectors/s3-records-stream';
import type { Identity } from '../functions/connectors/types';
import { parseDataMap, type S3RecordsStore } from '../functions/core/datamap';
import { RecordMatcher } from '../functions/core/matching';
import type { SubjectEntry } from '../examples/voip-operator/generator';
import type { LogDataset } from './dataset';

export const DATAMAP = parseDataMap(JSON.parse(fs.readFileSync(path.join(__dirname, '../examples/voip-operator/datamap.json'), 'utf8')));
export const LOG_STORES = new Map(DATAMAP.stores.filter((s): s is S3RecordsStore => s.kind === 's3-records').map((s) => [s.name, s]));

export function identityOf(s: SubjectEntry): Identity {
  const { subjectId: _ignored, ...rest } = s.identifiers;
  return { ...rest, subjectId: s.identifiers.subjectId } as Identity;
}

export function pickSubjects(ds: LogDataset, k: number): SubjectEntry[] {
  // Subjects that appear in the logs first, so K=1 has real work to do.
  const sorted = [...ds.report.subjects].sort((a, b) => b.expected['sip-logs'].records - a.expected['sip-logs'].records);
  const step = Math.max(1, Math.floor(sorted.length / k));
  const out: SubjectEntry[] = [];
  for (let i = 0; out.length < k && i < sorted.length; i += step) out.push(sorted[i]);
  return out;
}

/**
 * `n` subjects for a K-subject pass: the dataset's own (a typical one first, so K=1 is not the
 * busiest subject), then made-up ones that appear in no log (a batch is mostly subjects with
 * few or no log records).
 */
export function orderedSubjects(ds: LogDataset, n: number, maxReal = Infinity): Array<[string, Identity]> {
  const real = [...ds.report.subjects].sort((a, b) => b.expected['sip-logs'].records - a.expected['sip-logs'].records);
  const median = real.splice(Math.floor(real.length / 2), 1);
  // One subject in ten has log records: the reference operator has 2,000 customers, and a batch
  // of 1,000 of them would be half its traffic, not what a queue of erasures looks like.
  const out: Array<[string, Identity]> = median.map((s) => [s.subjectId, identityOf(s)]);
  for (let i = 0; out.length < n; i++) {
    const r = out.length % 10 === 0 && out.length < maxReal * 10 ? real.shift() : undefined;
    if (r) {
      out.push([r.subjectId, identityOf(r)]);
      continue;
    }
    const id = `absent-${i}`;
    out.push([id, { subjectId: [id], accountId: [`cust-9${String(i).padStart(5, '0')}`], email: [`absent.${i}@nowhere.example`], phone: [`+1819555${String(i).padStart(4, '0')}`], sipUsername: [`absent_${i}`], deviceId: [`dev-ffff${i.toString(16).padStart(8, '0')}`], ip: [`172.31.${(i >> 8) & 255}.${i & 255}`] } as Identity]);
  }
  return out;
}

/** Subjects with records in these objects first (most records first), then the rest. */
export async function rankSubjects(ds: LogDataset, objs: LogDataset['objects']): Promise<SubjectEntry[]> {
  const all = new Map(ds.report.subjects.map((s) => [s.subjectId, identityOf(s)]));
  const counts = new Map<string, number>();
  for (const o of objs) {
    const store = LOG_STORES.get(o.store)!;
    const matcher = new RecordMatcher(store.fields, all, store.format, store.identifiers);
    await processRecords(fs.createReadStream(o.file), { format: store.format, compression: store.compression, matcher }, (rec) => {
      for (const ref of rec.matches.keys()) counts.set(ref, (counts.get(ref) ?? 0) + 1);
      return { kind: 'keep' };
    });
  }
  // Spread over the ranking so that K=1 is a typical subject, not the busiest one.
  const present = ds.report.subjects.filter((s) => counts.has(s.subjectId)).sort((a, b) => counts.get(b.subjectId)! - counts.get(a.subjectId)!);
  const median = present.splice(Math.floor(present.length / 2), 1);
  return [...median, ...present, ...ds.report.subjects.filter((s) => !counts.has(s.subjectId))];
}

/**
 * Soak (npm run soak, not npm test): at the `medium` scale, requests of every type for many
 * subjects through the local engine; every history event and every file of every export is
 * searched for every other subject's identifier values (and the history for any personal
 * value at all). Zero hits expected.
 *
 *   SOAK_SUBJECTS=8 npm run soak      (subjects per request type; default 8)
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { GetExecutionHistoryCommand, SFNClient, type HistoryEvent } from '@aws-sdk/client-sfn';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { SubjectEntry, SubjectsReport } from '../../examples/voip-operator/generator';
import { seedReferenceDataset } from '../../examples/voip-operator/seed';
import { containsToken, continuationClass } from '../../functions/core/matching';
import type { IdentifierType } from '../../functions/core/datamap';
import { readZip } from '../core/bundle-support';
import { startTestEngine, type TestEngine } from '../support/engine';

const NOW = '2026-11-02T12:00:00.000Z';
const PER_TYPE = Number(process.env.SOAK_SUBJECTS ?? 8);
let t: TestEngine;
let report: SubjectsReport;
let s3: S3Client;
let sfn: SFNClient;

beforeAll(async () => {
  t = await startTestEngine();
  t.setClock(NOW);
  const ddb = new DynamoDBClient({});
  s3 = new S3Client({ forcePathStyle: true });
  sfn = new SFNClient({});
  try {
    await seedReferenceDataset({ dataDir: t.dataDir, scale: 'medium', seed: 23, clients: { dynamodb: ddb, s3 } });
  } finally {
    ddb.destroy();
  }
  report = JSON.parse(fs.readFileSync(path.join(t.dataDir, 'reference/subjects.json'), 'utf8')) as SubjectsReport;
}, 900_000);

afterAll(async () => {
  s3?.destroy();
  sfn?.destroy();
  await t?.stop();
});

const valuesOf = (s: SubjectEntry): string[] => Object.values(s.identifiers).flat();

async function historyText(arn: string): Promise<string> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(new GetExecutionHistoryCommand({ executionArn: arn, maxResults: 1000, nextToken }));
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return JSON.stringify(events);
}

/** Every object in the bundle bucket not seen before, as text (ZIP entries unpacked). */
async function newExportTexts(seen: Set<string>): Promise<Array<{ key: string; text: string }>> {
  const bucket = process.env.DSR_BUNDLE_BUCKET!;
  const out: Array<{ key: string; text: string }> = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
    for (const o of page.Contents ?? []) {
      if (!o.Key || seen.has(`${o.Key}@${o.ETag}`)) continue;
      seen.add(`${o.Key}@${o.ETag}`);
      const body = Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: o.Key }))).Body!.transformToByteArray());
      if (body.subarray(0, 2).toString('latin1') === 'PK') {
        const file = path.join(os.tmpdir(), `soak-${process.pid}.zip`);
        fs.writeFileSync(file, body);
        try {
          for (const e of await readZip(file)) out.push({ key: `${o.Key}!${e.name}`, text: e.data.toString('utf8') });
        } finally {
          fs.rmSync(file, { force: true });
        }
      } else out.push({ key: o.Key, text: body.toString('utf8') });
    }
    token = page.NextContinuationToken;
  } while (token);
  return out;
}

describe('leaks at the medium scale', () => {
  it('no history event holds a personal value; no export holds another subject value', async () => {
    // A value counts where it stands as a whole token: "cust-1" inside "cust-12" is not a hit.
    const all = report.subjects.flatMap((s) =>
      Object.entries(s.identifiers).flatMap(([type, vs]) => vs.map((v) => ({ owner: s.subjectId, v, continues: continuationClass(type as IdentifierType, v) }))),
    );
    const holds = (text: string, x: (typeof all)[number]) => text.includes(x.v) && containsToken(text, x.v, x.continues);
    const plain = report.subjects.filter((s) => !s.flags.fraudInvestigation);
    const seen = new Set<string>();
    await newExportTexts(seen);
    const hits: string[] = [];
    let requests = 0;
    let exportFiles = 0;
    let historyBytes = 0;
    for (const type of ['access', 'portability', 'restriction', 'erasure'] as const) {
      for (let i = 0; i < PER_TYPE; i++) {
        const subject = type === 'erasure' ? plain[plain.length - 1 - i] : plain[(i * 7) % Math.floor(plain.length / 2)];
        const id = `soak-${type}-${i}`;
        const r = await t.dsr('start', '--type', type, '--subject', subject.subjectId, '--request-id', id, '--verified-by', 'agent-7', '--verification-method', 'id-document', '--verification-ref', 'SOAK', '--verified-at', NOW, '--wait', '--json');
        expect({ id, code: r.code, err: r.err }).toEqual({ id, code: 0, err: '' });
        requests++;
        const summary = JSON.parse(r.out.trim().split('\n').pop()!) as { execution: { arn: string } };
        const history = await historyText(summary.execution.arn);
        historyBytes += history.length;
        for (const x of all) if (holds(history, x)) hits.push(`history of ${id}: a value of ${x.owner === subject.subjectId ? 'the subject' : 'another subject'}`);
        const mine = new Set(valuesOf(subject));
        for (const file of await newExportTexts(seen)) {
          exportFiles++;
          for (const x of all) {
            if (x.owner === subject.subjectId || mine.has(x.v)) continue;
            if (holds(file.text, x)) hits.push(`export ${file.key} of ${id} (${type}) holds a value of ${x.owner}`);
          }
        }
      }
    }
    console.log(`soak: ${requests} requests, ${(historyBytes / 1e6).toFixed(1)} MB of history, ${exportFiles} export files searched for ${all.length} values`);
    expect(hits).toEqual([]);
  }, 3_600_000);
});

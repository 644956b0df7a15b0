/**
 * Ten concurrent `dsr start` of the same erasure request, through the whole local engine:
 * one execution, one receipt, and every start reports that same execution.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import fs from 'node:fs';
import path from 'node:path';
import type { SubjectsReport } from '../../examples/voip-operator/generator';
import { seedReferenceDataset } from '../../examples/voip-operator/seed';
import { startTestEngine, type TestEngine } from '../support/engine';

const NOW = '2026-11-02T12:00:00.000Z';
let t: TestEngine;
let report: SubjectsReport;

beforeAll(async () => {
  t = await startTestEngine();
  t.setClock(NOW);
  const ddb = new DynamoDBClient({});
  const s3 = new S3Client({ forcePathStyle: true });
  try {
    await seedReferenceDataset({ dataDir: t.dataDir, scale: 'small', seed: 11, clients: { dynamodb: ddb, s3 } });
  } finally {
    ddb.destroy();
    s3.destroy();
  }
  report = JSON.parse(fs.readFileSync(path.join(t.dataDir, 'reference/subjects.json'), 'utf8')) as SubjectsReport;
}, 240_000);

afterAll(async () => {
  await t?.stop();
});

describe('ten concurrent starts of the same request id', () => {
  it('erase once: one execution, one receipt', async () => {
    const subject = report.subjects.find((s) => !s.flags.fraudInvestigation && !s.flags.legalHeldMedia && !s.flags.specialCharacters)!;
    const args = ['start', '--type', 'erasure', '--subject', subject.subjectId, '--request-id', 'concurrent-erase-1', '--verified-by', 'agent-7', '--verification-method', 'id-document', '--verification-ref', 'T-1', '--verified-at', NOW, '--wait', '--json'];
    const runs = await Promise.all(Array.from({ length: 10 }, () => t.dsr(...args)));
    const summaries = runs.map((r) => {
      expect({ code: r.code, err: r.err }).toEqual({ code: 0, err: '' });
      return JSON.parse(r.out.trim().split('\n').pop()!) as { status: string; execution: { arn: string }; receipt: unknown };
    });
    expect(new Set(summaries.map((s) => s.execution.arn)).size).toBe(1);
    expect(summaries.every((s) => s.status === 'completed')).toBe(true);
    const receipts = new Set(summaries.map((s) => JSON.stringify(s.receipt)));
    expect(receipts.size).toBe(1);
    expect(summaries[0].receipt).toBeTruthy();

    const sfn = new SFNClient({});
    try {
      const executions = (await sfn.send(new ListExecutionsCommand({ stateMachineArn: process.env.DSR_STATE_MACHINE_ARN!, maxResults: 1000 }))).executions ?? [];
      expect(executions.filter((e) => e.name?.includes('concurrent-erase-1'))).toHaveLength(1);
    } finally {
      sfn.destroy();
    }
  }, 240_000);
});

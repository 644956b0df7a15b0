/**
 * ResultWriter (`arn:aws:states:::s3:putObject`): the child results go to
 * `<Prefix>/<mapRunId>/SUCCEEDED_0.json`, `FAILED_0.json`, `PENDING_0.json` and a
 * `manifest.json` naming them, signed as the machine's role. Each result is an execution
 * summary as AWS writes it (ExecutionArn, Input, InputDetails, Name, Output/Error/Cause,
 * OutputDetails, RedriveCount, RedriveStatus, StartDate, StateMachineArn, Status, StopDate).
 * AWS splits a file at 5 GB; locally each kind is one file (`_0`).
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { ExecutionRecord } from './model';
import { MapRunFailure, s3Client, type S3Access } from './item-reader';
import { resolveTemplate } from './paths';

export const RESULT_WRITER_FAILED = 'States.ResultWriterFailed';

interface WriterSpec {
  Resource?: string;
  Parameters?: unknown;
  WriterConfig?: { OutputType?: string; Transformation?: string };
}

const iso = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : new Date(ms).toISOString().replace('Z', '+00:00'));

export function resultEntry(e: ExecutionRecord): Record<string, unknown> {
  return {
    ExecutionArn: e.executionArn,
    Input: e.input,
    InputDetails: { Included: true },
    Name: e.name,
    ...(e.status === 'SUCCEEDED' ? { Output: e.output, OutputDetails: { Included: true } } : {}),
    ...(e.error !== undefined ? { Error: e.error } : {}),
    ...(e.cause !== undefined ? { Cause: e.cause } : {}),
    RedriveCount: 0,
    RedriveStatus: 'NOT_REDRIVABLE',
    RedriveStatusReason: 'Execution is SUCCEEDED and cannot be redriven',
    StartDate: iso(e.startDate),
    StateMachineArn: e.stateMachineArn,
    Status: e.status,
    StopDate: iso(e.stopDate),
  };
}

export interface Written {
  Bucket: string;
  Key: string;
}

export async function writeResults(
  spec: WriterSpec,
  input: unknown,
  context: unknown,
  s3: S3Access | undefined,
  run: { mapRunArn: string; id: string },
  children: { succeeded: ExecutionRecord[]; failed: ExecutionRecord[]; pending: ExecutionRecord[] },
): Promise<Written> {
  if (spec.Resource !== 'arn:aws:states:::s3:putObject') throw new MapRunFailure(RESULT_WRITER_FAILED, `ResultWriter resource ${String(spec.Resource)} is not supported locally.`);
  if (spec.WriterConfig && (spec.WriterConfig.OutputType ?? 'JSON') !== 'JSON') throw new MapRunFailure(RESULT_WRITER_FAILED, 'WriterConfig OutputType JSONL is not modelled locally.');
  if (!s3) throw new MapRunFailure(RESULT_WRITER_FAILED, 'The local Step Functions server was started without an S3 endpoint (s3Endpoint option).');
  const params = resolveTemplate(spec.Parameters ?? {}, input, context) as { Bucket?: string; Prefix?: string };
  const bucket = String(params.Bucket);
  const prefix = params.Prefix ? `${params.Prefix.replace(/\/+$/, '')}/${run.id}` : run.id;
  const client = s3Client(s3);
  const put = async (key: string, body: string): Promise<void> => {
    try {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'application/json' }));
    } catch (err) {
      const e = err as { name?: string; message?: string };
      throw new MapRunFailure(RESULT_WRITER_FAILED, `${e.name ?? 'Error'}: ${e.message ?? String(err)} (Service: S3)`);
    }
  };
  try {
    const files: { Key: string; Size: number }[] = [];
    const kinds = { SUCCEEDED: children.succeeded, FAILED: children.failed, PENDING: children.pending };
    const resultFiles: Record<string, { Key: string; Size: number }[]> = { FAILED: [], PENDING: [], SUCCEEDED: [] };
    for (const [kind, records] of Object.entries(kinds)) {
      if (records.length === 0) continue;
      const body = JSON.stringify(records.map(resultEntry));
      const key = `${prefix}/${kind}_0.json`;
      await put(key, body);
      const file = { Key: key, Size: Buffer.byteLength(body, 'utf8') };
      files.push(file);
      resultFiles[kind].push(file);
    }
    const manifestKey = `${prefix}/manifest.json`;
    await put(manifestKey, JSON.stringify({ DestinationBucket: bucket, MapRunArn: run.mapRunArn, ResultFiles: resultFiles }));
    return { Bucket: bucket, Key: manifestKey };
  } finally {
    client.destroy();
  }
}

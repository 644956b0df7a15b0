/**
 * Subject-level retention limits (accounts 2 years after deactivation, recordings 6 months
 * after termination): the subjects past a limit, found through the date index the data map
 * names, each get a system-originated erasure through the normal subject-request machine
 * (origin `retention-schedule`, the limit as its basis), so holds, fraud flags, third-party
 * redaction, receipts and the sweep apply as to any erasure.
 *
 * Idempotent: the request id is an HMAC of (limit, subject, anchor date) under the
 * deployment's key, so a second run, on the same day or later, finds the same request and
 * starts nothing; a run that crashed between recording and starting starts it the next time.
 * The id cannot be turned back into a subject id by guessing ids (the key is secret).
 */
import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { pagesBefore } from './date-index';
import { deadlineSettings } from './deadline-settings';
import { requestDeadline } from './deadlines';
import { currentContainer } from './lambda-container';
import { pendingAccessRequests } from './pending-requests';
import { createRequest, type ExecutionInput } from './request';
import { cutoffFor, durationText, subjectLimits, type SubjectLimit } from './retention-limits';
import { addDuration, DEFAULT_SCHEDULE, parseSchedule } from './retention';
import type { Runtime } from './runtime';

export interface LimitCounts {
  pastLimit: number;
  started: number;
  alreadyStarted: number;
  keptPendingRequest: number;
  /** Past the limit but over this run's budget: the next run starts them. */
  deferredToNextRun: number;
}

export interface SubjectEnforcement {
  readonly byLimit: Record<string, LimitCounts>;
  readonly started: number;
}

/** Ledger partition listing the requests enforcement started (no subject id): `dsr retention report` reads it. */
export const RETENTION_REQUESTS_PK = 'retention-request';

export function scheduleOf(rt: Pick<Runtime, 'config'>) {
  return rt.config.retention === undefined ? DEFAULT_SCHEDULE : parseSchedule(rt.config.retention);
}

/** Subjects whose anchor date is before the limit's cutoff: (subject id, anchor), from the index, page by page. */
async function* pastLimit(rt: Pick<Runtime, 'dynamodb'>, limit: SubjectLimit, now: Date): AsyncGenerator<{ subjectId: string; anchorAt: string }> {
  const d = limit.dateIndex;
  for await (const out of pagesBefore(rt.dynamodb, { table: limit.table, index: d, cutoff: cutoffFor(now, limit.after).toISOString(), projection: [limit.subjectAttribute, d.dateAttribute] })) {
    for (const raw of out.Items ?? []) {
      const item = unmarshall(raw);
      if (typeof item[limit.subjectAttribute] === 'string' && typeof item[d.dateAttribute] === 'string') yield { subjectId: item[limit.subjectAttribute], anchorAt: item[d.dateAttribute] };
    }
  }
}

/** The SDK client of the calling function's container (its own role's credentials locally). */
function containerSfnClient(): SFNClient {
  const credentials = currentContainer()?.credentials;
  return new SFNClient(credentials ? { credentials: { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey } } : {});
}

/** The request id of (limit, subject, anchor): deterministic within a deployment, not reversible without its key. */
export function retentionRequestId(rt: Pick<Runtime, 'connectorContext'>, limit: Pick<SubjectLimit, 'category' | 'from'>, subjectId: string, anchorAt: string): string {
  const mac = rt.connectorContext().anonymizer.apply({ strategy: 'hmac' }, `retention|${limit.category}|${limit.from}|${subjectId}|${anchorAt}`) as string;
  return `ret-${limit.category}-${mac.replace(/^hmac:/, '').slice(0, 24)}`;
}

export async function enforceSubjectLimits(rt: Runtime, opts: { runId: string; now: Date; stateMachineArn: string; maxStarts: number }): Promise<SubjectEnforcement> {
  const { runId, now } = opts;
  const limits = subjectLimits(rt.config.dataMap, scheduleOf(rt));
  const sfn = containerSfnClient();
  const doc = DynamoDBDocumentClient.from(rt.dynamodb);
  const byLimit: Record<string, LimitCounts> = {};
  let budget = opts.maxStarts;
  let started = 0;
  for (const limit of limits) {
    const counts: LimitCounts = { pastLimit: 0, started: 0, alreadyStarted: 0, keptPendingRequest: 0, deferredToNextRun: 0 };
    byLimit[limit.category] = counts;
    for await (const { subjectId, anchorAt } of pastLimit(rt, limit, now)) {
      counts.pastLimit++;
      // A pending access or portability request holds the subject (PIPEDA s.8(8)): no erasure until it is answered.
      if ((await pendingAccessRequests(rt, subjectId)).length > 0) {
        counts.keptPendingRequest++;
        continue;
      }
      // Due by the run's date but not yet by the clock ValidateRequest reads (`--now` ahead of a
      // local engine's clock): started now, it would be refused for good under its one id. Later.
      if (addDuration(new Date(anchorAt), limit.after).getTime() > rt.clock.now().getTime()) {
        counts.deferredToNextRun++;
        continue;
      }
      const requestId = retentionRequestId(rt, limit, subjectId, anchorAt);
      const existing = await rt.ledger.getRequest(requestId);
      if (existing && existing.status !== 'received') {
        counts.alreadyStarted++;
        continue;
      }
      if (budget <= 0) {
        counts.deferredToNextRun++;
        continue;
      }
      budget--;
      const request = createRequest(
        {
          requestId,
          subjectId,
          type: 'erasure',
          origin: 'retention-schedule',
          retentionBasis: { category: limit.category, basis: limit.basis, from: limit.from, after: durationText(limit.after), anchorAt: new Date(anchorAt).toISOString(), dueAt: addDuration(new Date(anchorAt), limit.after).toISOString(), runId },
          ...(limit.stores ? { stores: [...limit.stores] } : {}),
        },
        now,
      );
      // Same id, same (limit, subject, anchor): an existing record is this very request.
      const record = await rt.ledger.putRequest(request, now, () => true, requestDeadline(request, deadlineSettings(rt.config.settings)));
      const input: ExecutionInput = { requestId, requestHash: record.requestHash, mode: 'run' };
      let fresh = record.request.nonce === request.nonce;
      try {
        await sfn.send(new StartExecutionCommand({ stateMachineArn: opts.stateMachineArn, name: requestId, input: JSON.stringify(input) }));
      } catch (err) {
        if (!(err instanceof ExecutionAlreadyExists) && (err as { name?: string }).name !== 'ExecutionAlreadyExists') throw err;
        fresh = false;
      }
      await doc.send(new PutCommand({ TableName: rt.ledger.table, Item: { pk: RETENTION_REQUESTS_PK, sk: requestId, requestId, category: limit.category, basis: limit.basis, from: limit.from, after: durationText(limit.after), runId, startedAt: now.toISOString() }, ConditionExpression: 'attribute_not_exists(pk)' })).catch((err: unknown) => {
        if ((err as { name?: string }).name !== 'ConditionalCheckFailedException') throw err;
      });
      if (fresh) {
        counts.started++;
        started++;
      } else counts.alreadyStarted++;
    }
  }
  return { byLimit, started };
}

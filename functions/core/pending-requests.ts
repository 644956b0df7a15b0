/**
 * Whether a subject has an access or portability request that is not answered yet: what it
 * covers must not be erased or purged meanwhile (PIPEDA s.8(8)). The one place enforcement
 * asks; the deadlines work (issue 15, deliverable 2) records pending requests in a form that
 * can be looked up by subject, and this module is where that lookup replaces the Scan below.
 *
 * Until then it reads what the ledger records today: request items (`request#<id>` /
 * `request`) with their type and status. They are not indexed by subject, so one Scan of the
 * ledger per enforcement step collects every pending subject (the ledger is the product's own
 * table, small beside the operator's stores). Subject ids stay inside the handler.
 */
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { Runtime } from './runtime';

/** Statuses of a request that has not been answered yet. */
const PENDING = ['received', 'running', 'planned', 'awaiting-approval', 'approved'];
const ANSWERED_BY_ACCESS = ['access', 'portability'];

/** Every subject with a pending access or portability request. */
export async function subjectsWithPendingAccessRequests(rt: Pick<Runtime, 'dynamodb' | 'ledger'>): Promise<Set<string>> {
  const doc = DynamoDBDocumentClient.from(rt.dynamodb);
  const subjects = new Set<string>();
  let start: Record<string, unknown> | undefined;
  do {
    const out = await doc.send(
      new ScanCommand({
        TableName: rt.ledger.table,
        FilterExpression: 'sk = :request AND #request.#type IN (:t0, :t1) AND #status IN (:s0, :s1, :s2, :s3, :s4)',
        ProjectionExpression: '#request.subjectId',
        ExpressionAttributeNames: { '#request': 'request', '#type': 'type', '#status': 'status' },
        ExpressionAttributeValues: {
          ':request': 'request',
          ...Object.fromEntries(ANSWERED_BY_ACCESS.map((t, i) => [`:t${i}`, t])),
          ...Object.fromEntries(PENDING.map((s, i) => [`:s${i}`, s])),
        },
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    );
    for (const item of out.Items ?? []) {
      const subjectId = (item.request as { subjectId?: unknown } | undefined)?.subjectId;
      if (typeof subjectId === 'string') subjects.add(subjectId);
    }
    start = out.LastEvaluatedKey;
  } while (start);
  return subjects;
}

/** The question enforcement asks of one subject (see the module comment for what answers it). */
export async function subjectHasPendingAccessRequest(rt: Pick<Runtime, 'dynamodb' | 'ledger'>, subjectId: string, known?: ReadonlySet<string>): Promise<boolean> {
  return (known ?? (await subjectsWithPendingAccessRequests(rt))).has(subjectId);
}

/**
 * The ledger table: the product's own record of requests, plans, approvals and outcomes.
 * Single-table layout, `pk`/`sk` strings:
 *   request#<id> / request        the request (personal: subject id), its status and outcome
 *   receipt / plan#<id>#<hash>    a stored plan's summary (counts and bases, where the full plan lives):
 *                                 in the receipt partition, so auditors read the bases of every count
 *   subject#<sha256> / request#<id>   an access or portability request of that subject (functions/core/pending-requests.ts):
 *                                 keyed by the subject's hash, as the subject's lock item is
 * The request item also carries, at its top level, what `dsr requests` lists (type, origin,
 * status, received, due) and the sparse index DEADLINE_INDEX over (`dueState`, `dueAt`), whose
 * projection leaves out the request itself (the subject id).
 * Writes that race (two starts, two approvals) are conditional.
 */
import { ConditionalCheckFailedException, TransactionCanceledException, type CreateTableCommandInput, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { DEADLINE_INDEX, dueStateOf, requestDeadline, type RequestDeadline } from './deadlines';
import { DsrError, InvalidInputError } from './errors';
import { pendingRequestWrites } from './pending-requests';
import { requestHash, type SubjectRequest } from './request';

/** Every status a request item can have (`dsr requests --status` and the console's filter take these). */
export const REQUEST_STATUSES = ['received', 'running', 'refused', 'planned', 'awaiting-approval', 'approved', 'rejected', 'routed-to-person', 'completed', 'failed', 'cancelled'] as const;
export type RequestStatus = (typeof REQUEST_STATUSES)[number];

export interface RequestRecord {
  readonly request: SubjectRequest;
  readonly requestHash: string;
  readonly status: RequestStatus;
  readonly updatedAt: string;
  readonly reason?: string;
  readonly planHash?: string;
  readonly approval?: { readonly planHash: string; readonly approvedBy: string; readonly approvedAt: string };
  readonly receiptKey?: string;
  /** When it was received and when the answer is due (after an extension: the extended date). */
  readonly receivedAt?: string;
  readonly dueAt?: string;
  readonly jurisdiction?: string;
  /** The one extension (`dsr extend`): its length, the hash of its reason, and when. The reason itself is `extensionReason`. */
  readonly extension?: { readonly days: number; readonly reasonHash: string; readonly at: string; readonly firstDueAt: string };
  readonly extensionReason?: string;
  /** `dsr cancel` asked the running request to stop (the Task handlers look between units of work). */
  readonly cancelRequested?: { readonly at: string; readonly reasonHash: string };
  readonly cancelReason?: string;
}

export class RequestConflictError extends DsrError {
  constructor(requestId: string) {
    super(`request ${requestId} already exists with different content; use a new request id`);
    this.name = 'RequestConflict';
  }
}

export class Ledger {
  private readonly doc: DynamoDBDocumentClient;
  constructor(
    client: DynamoDBClient,
    readonly table: string,
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  /** Stores a new request; an existing one with the same id is returned when it is the same request. */
  /**
   * Stores a new request with its deadline (default: the default settings' period), and, for
   * an access or portability request, its entry under the subject's hash, in one write.
   */
  async putRequest(request: SubjectRequest, now: Date, isSame: (existing: SubjectRequest) => boolean, deadline: RequestDeadline = requestDeadline(request)): Promise<RequestRecord> {
    const record: RequestRecord = { request, requestHash: requestHash(request), status: 'received', updatedAt: now.toISOString(), ...deadline };
    const listed = { requestId: request.requestId, requestType: request.type, origin: request.origin ?? 'subject', dueState: dueStateOf('received') };
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName: this.table, Item: { pk: requestPk(request.requestId), sk: 'request', ...record, ...listed }, ConditionExpression: 'attribute_not_exists(pk)' } },
            ...pendingRequestWrites(request, this.table),
          ],
        }),
      );
      return record;
    } catch (err) {
      const exists = err instanceof TransactionCanceledException && (err.CancellationReasons ?? []).some((r) => r.Code === 'ConditionalCheckFailed');
      if (!exists && !(err instanceof ConditionalCheckFailedException)) throw err;
      const existing = await this.getRequest(request.requestId);
      if (existing && isSame(existing.request)) return existing;
      throw new RequestConflictError(request.requestId);
    }
  }

  async getRequest(requestId: string): Promise<RequestRecord | undefined> {
    const out = await this.doc.send(new GetCommand({ TableName: this.table, Key: { pk: requestPk(requestId), sk: 'request' }, ConsistentRead: true }));
    if (!out.Item) return undefined;
    const { pk: _pk, sk: _sk, requestId: _id, requestType: _type, origin: _origin, dueState: _state, ...record } = out.Item;
    return record as RequestRecord;
  }

  /** `null` removes a field (a reason that no longer applies). */
  async setStatus(requestId: string, status: RequestStatus, now: Date, extra: { reason?: string | null; planHash?: string; receiptKey?: string } = {}): Promise<void> {
    // dueState follows the status, so DEADLINE_INDEX lists open requests apart from answered ones.
    const names: Record<string, string> = { '#status': 'status', '#updatedAt': 'updatedAt', '#dueState': 'dueState' };
    const values: Record<string, unknown> = { ':status': status, ':now': now.toISOString(), ':dueState': dueStateOf(status) };
    const sets = ['#status = :status', '#updatedAt = :now', '#dueState = :dueState'];
    const removes: string[] = [];
    for (const [k, v] of Object.entries(extra)) {
      if (v === undefined) continue;
      names[`#${k}`] = k;
      if (v === null) {
        removes.push(`#${k}`);
        continue;
      }
      values[`:${k}`] = v;
      sets.push(`#${k} = :${k}`);
    }
    await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: requestPk(requestId), sk: 'request' },
        UpdateExpression: `SET ${sets.join(', ')}${removes.length > 0 ? ` REMOVE ${removes.join(', ')}` : ''}`,
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
  }

  async putPlanSummary(requestId: string, planHash: string, summary: Record<string, unknown>, now: Date): Promise<void> {
    await this.doc.send(
      new PutCommand({ TableName: this.table, Item: { ...planSummaryKey(requestId, planHash), planHash, createdAt: now.toISOString(), ...summary } }),
    );
  }

  async getPlanSummary(requestId: string, planHash: string): Promise<Record<string, unknown> | undefined> {
    const out = await this.doc.send(new GetCommand({ TableName: this.table, Key: planSummaryKey(requestId, planHash), ConsistentRead: true }));
    return out.Item;
  }

  /**
   * Who made a change to a request (approved, rejected, lifted, rectified). The receipt of the
   * change carries only a hash of it; the name stays here, with the rest of what is personal.
   */
  async putActor(requestId: string, changeId: string, by: string, now: Date): Promise<void> {
    await this.doc.send(new PutCommand({ TableName: this.table, Item: { pk: requestPk(requestId), sk: `actor#${changeId}`, changeId, by, at: now.toISOString() } }));
  }

  async getActor(requestId: string, changeId: string): Promise<{ by: string; at: string } | undefined> {
    const out = await this.doc.send(new GetCommand({ TableName: this.table, Key: { pk: requestPk(requestId), sk: `actor#${changeId}` }, ConsistentRead: true }));
    return out.Item ? { by: out.Item.by as string, at: out.Item.at as string } : undefined;
  }

  /**
   * Approves the request's current plan. Conditional on the plan hash the approver saw, so a
   * plan that changed after review cannot be applied under an old approval.
   */
  async approve(requestId: string, planHash: string, approvedBy: string, now: Date): Promise<void> {
    await this.decidePlan(requestId, planHash, 'SET approval = :approval, #status = :approved, updatedAt = :now', {
      ':approval': { planHash, approvedBy, approvedAt: now.toISOString() },
      ':approved': 'approved',
      ':now': now.toISOString(),
    });
  }

  /** Rejects the plan under review (same condition as an approval); the request can be planned again. */
  async reject(requestId: string, planHash: string, now: Date): Promise<void> {
    await this.decidePlan(requestId, planHash, 'SET #status = :rejected, updatedAt = :now, reason = :reason', { ':rejected': 'rejected', ':now': now.toISOString(), ':reason': 'plan-rejected' });
  }

  /** Applies an approval's or a rejection's update, only while `planHash` is the plan awaiting approval. */
  private async decidePlan(requestId: string, planHash: string, update: string, values: Record<string, unknown>): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: requestPk(requestId), sk: 'request' },
          UpdateExpression: update,
          ConditionExpression: 'planHash = :planHash AND #status = :awaiting',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ...values, ':awaiting': 'awaiting-approval', ':planHash': planHash },
        }),
      );
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) throw new InvalidInputError(`request ${requestId} has no plan ${planHash.slice(0, 12)}… awaiting approval`);
      throw err;
    }
  }
}

export function requestPk(requestId: string): string {
  return `request#${requestId}`;
}

/** The ledger's key schema, shared by the local engine and the CDK construct. */
export const LEDGER_KEY = { partitionKey: 'pk', sortKey: 'sk' } as const;

/** CreateTable input of a ledger table (the local engine and tests; CDK builds its own). */
export function ledgerTableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: LEDGER_KEY.partitionKey, AttributeType: 'S' },
      { AttributeName: LEDGER_KEY.sortKey, AttributeType: 'S' },
      { AttributeName: DEADLINE_INDEX.partitionKey, AttributeType: 'S' },
      { AttributeName: DEADLINE_INDEX.sortKey, AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: LEDGER_KEY.partitionKey, KeyType: 'HASH' },
      { AttributeName: LEDGER_KEY.sortKey, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: DEADLINE_INDEX.name,
        KeySchema: [
          { AttributeName: DEADLINE_INDEX.partitionKey, KeyType: 'HASH' },
          { AttributeName: DEADLINE_INDEX.sortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: [...DEADLINE_INDEX.projected] },
      },
    ],
  };
}

/** Request ids have no `#`: one key per (request, plan). No personal value is in a summary. */
function planSummaryKey(requestId: string, planHash: string): { pk: string; sk: string } {
  return { pk: 'receipt', sk: `plan#${requestId}#${planHash}` };
}

/**
 * The retention report: per store and per limit, what is past its limit, what was purged or
 * erased, what is kept and why. One implementation for `dsr retention report` and the
 * console's API. Read from the run receipts and the `retention-request` partition (ids, limits
 * and bases only), so both roles may read it: counts, bases and request ids, no personal value.
 */
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { RETENTION_REQUESTS_PK } from '../../functions/core/enforcement-subjects';
import { queryPartition } from '../../functions/core/ledger-partition';
import { getReceipt, receiptForRequest } from '../../functions/core/receipt';
import { cliPrincipal, type Clients } from '../context';

/** The requests enforcement started (ids and limits only), optionally of one run. */
export async function retentionRequests(c: Clients, runId?: string): Promise<Array<{ requestId: string; category: string; basis: string; runId: string; startedAt: string }>> {
  const found = [];
  for await (const item of queryPartition(c, RETENTION_REQUESTS_PK)) {
    if (runId === undefined || item.runId === runId) found.push(item as { requestId: string; category: string; basis: string; runId: string; startedAt: string });
  }
  return found;
}

/** Per store and per limit: past the limit, purged or erased, kept and why. From the run receipts and the started requests' receipts. */
export async function retentionReport(c: Clients, now?: string): Promise<Record<string, unknown>> {
  const doc = DynamoDBDocumentClient.from(c.dynamodb);
  const runs: Array<Record<string, unknown>> = [];
  let start: Record<string, unknown> | undefined;
  do {
    // The run receipts' pointers: `receipt` / `retention#<runId>` (functions/core/receipt.ts).
    const page = await doc.send(new QueryCommand({ TableName: c.deployment.ledgerTable, KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)', ExpressionAttributeValues: { ':pk': 'receipt', ':p': 'retention#' }, ExclusiveStartKey: start, ConsistentRead: true }));
    for (const pointer of page.Items ?? []) {
      const receipt = await getReceipt(c, pointer.sequence as number);
      const body = receipt ? (JSON.parse(receipt.body) as Record<string, unknown>) : undefined;
      if (body && (now === undefined || String(body.enforcedAt) <= now)) runs.push(body);
    }
    start = page.LastEvaluatedKey;
  } while (start);
  runs.sort((a, b) => String(a.enforcedAt).localeCompare(String(b.enforcedAt)));
  const latest = runs.at(-1);
  // The erasures the schedule asked for, by limit: how they ended, and what each kept and why.
  const limits: Record<string, { requests: number; outcomes: Record<string, number>; kept: Record<string, Record<string, number>>; deferred: Record<string, Record<string, number>> }> = {};
  for (const r of await retentionRequests(c)) {
    if (now !== undefined && r.startedAt > now) continue;
    const l = (limits[r.category] ??= { requests: 0, outcomes: {}, kept: {}, deferred: {} });
    l.requests++;
    // An auditor reads no request item, where a receipt from before the pointers moved keeps its pointer.
    const receipt = await receiptForRequest(c, r.requestId, { legacyPointers: cliPrincipal.getStore() !== 'auditor' });
    const body = receipt ? (JSON.parse(receipt.body) as { outcome?: string; refusals?: Array<{ store: string; reason?: string; basis?: string; count: number }>; deferrals?: Array<{ store: string; basis: string; count: number }> }) : undefined;
    const outcome = body?.outcome ?? 'running';
    l.outcomes[outcome] = (l.outcomes[outcome] ?? 0) + 1;
    for (const f of body?.refusals ?? []) {
      const why = f.reason ?? f.basis ?? 'unknown';
      (l.kept[f.store] ??= {})[why] = ((l.kept[f.store] ??= {})[why] ?? 0) + f.count;
    }
    for (const d of body?.deferrals ?? []) (l.deferred[d.store] ??= {})[d.basis] = ((l.deferred[d.store] ??= {})[d.basis] ?? 0) + d.count;
  }
  return {
    asOf: now ?? null,
    runs: runs.length,
    latestRun: latest ? { runId: latest.runId, enforcedAt: latest.enforcedAt, subjectLimits: latest.subjectLimits, subjectLimitsError: latest.subjectLimitsError } : null,
    // Per store, the latest run that worked it (a run that found another one on it has nothing to say).
    stores: Object.fromEntries(
      [...new Set(runs.flatMap((r) => Object.keys((r.stores ?? {}) as object)))].flatMap((name) => {
        const worked = runs.map((r) => (r.stores as Record<string, { status: string[] }>)?.[name]).filter((s) => s && s.status.some((st) => st !== 'running-elsewhere'));
        return worked.length > 0 ? [[name, worked.at(-1)]] : [];
      }),
    ),
    purgedAllRuns: Object.fromEntries(
      [...new Set(runs.flatMap((r) => Object.keys((r.stores ?? {}) as object)))].map((s) => [s, runs.reduce((n, r) => n + (((r.stores as Record<string, { purged: number }>)?.[s]?.purged) ?? 0), 0)]),
    ),
    subjectErasures: limits,
  };
}

/**
 * One page of the request list (the console's list, functions/core/deadlines.ts's order: due
 * date, then request id), read from where the previous page ended rather than by reading the
 * whole deadline index for every page: each index partition is queried from the page's start
 * (the key condition `dueAt >= start`), in small Query pages, until it has given more rows
 * than the page holds and every row that ties on the page's last due date — the index keeps
 * equal due dates in no order of ours, so a tie is sorted here and never split by a read.
 * The two partitions (open, answered) are then merged. Reads grow with the page size and the
 * filtered-out rows in between, not with the ledger.
 */
import { byDue, deadlineQueries, indexItems, listed, type Ctx, type ListedRequest, type RequestQuery } from './deadlines';

export interface ListPosition {
  readonly dueAt: string;
  readonly requestId: string;
}

/** Rows strictly after a position, in the list's order. */
export const isAfter = (r: ListedRequest, p: ListPosition): boolean => r.dueAt > p.dueAt || (r.dueAt === p.dueAt && r.requestId.localeCompare(p.requestId) > 0);

/** Items per Query page: a page of the list plus a few, so one Query usually serves a page. */
const queryPageSize = (limit: number) => Math.min(1000, limit + 16);

export async function requestListPage(rt: Ctx, q: RequestQuery, opts: { after?: ListPosition; limit: number }): Promise<{ requests: ListedRequest[]; more: boolean }> {
  const { after, limit } = opts;
  const firsts = await Promise.all(deadlineQueries(rt, q, after?.dueAt).map((query) => firstRows(rt, query, q.now, after, limit + 1)));
  const rows = firsts.flat().sort(byDue);
  return { requests: rows.slice(0, limit), more: rows.length > limit };
}

/** The first `want` rows after `after` of one partition, with every row tying on the last one's due date. */
async function firstRows(rt: Ctx, query: Parameters<typeof indexItems>[1], now: Date, after: ListPosition | undefined, want: number): Promise<ListedRequest[]> {
  const rows: ListedRequest[] = [];
  for await (const item of indexItems(rt, query, queryPageSize(want))) {
    const row = listed(item, now);
    if (after && !isAfter(row, after)) continue;
    // Rows come in due order: once `want` rows are in, the first row of a later due date ends the read.
    if (rows.length >= want && row.dueAt > rows[rows.length - 1].dueAt) break;
    rows.push(row);
  }
  return rows.sort(byDue).slice(0, want);
}

/**
 * The console's request list: `dsr requests`'s core (functions/core/deadlines.ts listRequests,
 * the ledger's deadline index, whose projection holds no subject id) with its filters (status,
 * type, origin, overdue, due within N days), most urgent first, one page at a time, each page
 * read from where the last ended (functions/core/request-page.ts). The next token is where the
 * page stopped in that order (due date, then request id), so a page never repeats or skips a
 * request that did not move meanwhile.
 */
import type { ListedRequest } from '../../functions/core/deadlines';
import { requestListPage, type ListPosition } from '../../functions/core/request-page';
import type { RequestStatus } from '../../functions/core/ledger';
import type { Clients } from '../../cli/context';
import { cliClock } from '../../cli/deadline-context';
import { invalidInput } from './errors';
import type { ListQuery } from './schemas';

export const DEFAULT_PAGE = 50;

export const encodeNext = (p: ListPosition) => Buffer.from(JSON.stringify([p.dueAt, p.requestId])).toString('base64url');

function decodeNext(token: string): ListPosition {
  try {
    const [dueAt, requestId] = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as unknown[];
    if (typeof dueAt === 'string' && typeof requestId === 'string') return { dueAt, requestId };
  } catch {
    // Falls through to the field error.
  }
  throw invalidInput([{ path: ['next'], message: 'not a token this list gave (start again without it)' }]);
}

export async function requestPage(c: Clients, q: ListQuery): Promise<{ now: string; requests: ListedRequest[]; next: string | null }> {
  const now = cliClock(c).now();
  const query = {
    now,
    overdue: q.due === 'overdue',
    dueWithinDays: q.due === 'within' ? q.days : undefined,
    status: q.status as RequestStatus | undefined,
    type: q.type,
    origin: q.origin,
  };
  const page = await requestListPage(c, query, { after: q.next ? decodeNext(q.next) : undefined, limit: q.limit ?? DEFAULT_PAGE });
  const last = page.requests.at(-1);
  return { now: now.toISOString(), requests: page.requests, next: last && page.more ? encodeNext(last) : null };
}

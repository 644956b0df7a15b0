/**
 * The console's request list: `dsr requests`'s core (functions/core/deadlines.ts listRequests,
 * the ledger's deadline index, whose projection holds no subject id) with its filters (status,
 * type, origin, overdue, due within N days), most urgent first, one page at a time. The next
 * token is where the page stopped in that order (due date, then request id), so a page never
 * repeats or skips a request that did not move meanwhile.
 */
import { listRequests, type ListedRequest } from '../../functions/core/deadlines';
import type { RequestStatus } from '../../functions/core/ledger';
import type { Clients } from '../../cli/context';
import { cliClock } from '../../cli/deadline-context';
import { invalidInput } from './errors';
import type { ListQuery } from './schemas';

export const DEFAULT_PAGE = 50;

interface Position {
  readonly dueAt: string;
  readonly requestId: string;
}

export const encodeNext = (p: Position) => Buffer.from(JSON.stringify([p.dueAt, p.requestId])).toString('base64url');

function decodeNext(token: string): Position {
  try {
    const [dueAt, requestId] = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as unknown[];
    if (typeof dueAt === 'string' && typeof requestId === 'string') return { dueAt, requestId };
  } catch {
    // Falls through to the field error.
  }
  throw invalidInput([{ path: ['next'], message: 'not a token this list gave (start again without it)' }]);
}

const after = (r: ListedRequest, p: Position) => r.dueAt > p.dueAt || (r.dueAt === p.dueAt && r.requestId.localeCompare(p.requestId) > 0);

export async function requestPage(c: Clients, q: ListQuery): Promise<{ now: string; requests: ListedRequest[]; next: string | null }> {
  const now = cliClock(c).now();
  const rows = await listRequests(c, {
    now,
    overdue: q.due === 'overdue',
    dueWithinDays: q.due === 'within' ? q.days : undefined,
    status: q.status as RequestStatus | undefined,
    type: q.type,
    origin: q.origin,
  });
  const from = q.next ? decodeNext(q.next) : undefined;
  const rest = from ? rows.filter((r) => after(r, from)) : rows;
  const page = rest.slice(0, q.limit ?? DEFAULT_PAGE);
  const last = page.at(-1);
  return { now: now.toISOString(), requests: page, next: last && rest.length > page.length ? encodeNext(last) : null };
}

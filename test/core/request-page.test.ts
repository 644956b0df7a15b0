/**
 * The request list read a page at a time (functions/core/request-page.ts) on DynamoDB Local:
 * the pages of every filter, at every page size, put together are exactly the whole listing
 * (`listRequests`, what `dsr requests` prints), ties on a due date included; and a page reads
 * about a page of the index, not the whole ledger (counted from the Queries' ScannedCount).
 */
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { listRequests, requestDeadline, type ListedRequest, type RequestQuery } from '../../functions/core/deadlines';
import { Ledger, ledgerTableDefinition, type RequestStatus } from '../../functions/core/ledger';
import { createRequest } from '../../functions/core/request';
import { requestListPage, type ListPosition } from '../../functions/core/request-page';
import { startTestEndpoints, type TestEndpoints } from '../support/endpoints';

let ep: TestEndpoints;
let rt: { dynamodb: TestEndpoints['dynamodb']; ledger: Ledger };
const now = new Date('2026-11-02T12:00:00Z');
const DAY = 86_400_000;
const TOTAL = 150;
let scanned = 0;

const TYPES = ['erasure', 'access', 'portability', 'rectification', 'restriction'] as const;
const STATUSES: RequestStatus[] = ['received', 'completed', 'awaiting-approval', 'failed', 'cancelled', 'refused', 'running'];

beforeAll(async () => {
  ep = await startTestEndpoints({ s3: false });
  await ep.dynamodb.send(new CreateTableCommand(ledgerTableDefinition('ledger')));
  ep.dynamodb.middlewareStack.add(
    (next) => async (args) => {
      const out = await next(args);
      scanned += (out.output as { ScannedCount?: number } | undefined)?.ScannedCount ?? 0;
      return out;
    },
    { step: 'initialize', name: 'countScanned' },
  );
  rt = { dynamodb: ep.dynamodb, ledger: new Ledger(ep.dynamodb, 'ledger') };
  let seed = 7;
  const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
  for (let i = 0; i < TOTAL; i++) {
    // Groups of up to six requests received at the same instant: equal due dates the index keeps in no order of ours.
    const receivedAt = new Date(now.getTime() - (Math.floor(i / 6) * 2.4 + rand(3)) * DAY).toISOString();
    const request = createRequest({ requestId: `req-${String(rand(1000)).padStart(3, '0')}-${i}`, subjectId: `cust-${i}`, type: TYPES[rand(TYPES.length)], receivedAt }, now);
    await rt.ledger.putRequest(request, now, () => false, requestDeadline(request));
    const status = STATUSES[rand(STATUSES.length)];
    if (status !== 'received') await rt.ledger.setStatus(request.requestId, status, now);
  }
}, 150_000);
afterAll(() => ep?.close());

async function allPages(q: RequestQuery, limit: number): Promise<{ rows: ListedRequest[]; reads: number[] }> {
  const rows: ListedRequest[] = [];
  const reads: number[] = [];
  let after: ListPosition | undefined;
  for (;;) {
    scanned = 0;
    const page = await requestListPage(rt, q, { after, limit });
    reads.push(scanned);
    expect(page.requests.length).toBeLessThanOrEqual(limit);
    rows.push(...page.requests);
    if (!page.more) return { rows, reads };
    expect(page.requests).toHaveLength(limit);
    after = page.requests.at(-1);
  }
}

const QUERIES: Array<[string, RequestQuery]> = [
  ['all', { now }],
  ['overdue', { now, overdue: true }],
  ['due within 7 days', { now, dueWithinDays: 7 }],
  ['overdue or due within 7 days', { now, overdue: true, dueWithinDays: 7 }],
  ['completed', { now, status: 'completed' }],
  ['erasures', { now, type: 'erasure' }],
  ['open access requests from subjects', { now, type: 'access', origin: 'subject', overdue: true, dueWithinDays: 40 }],
];

describe('the request list, a page at a time', () => {
  it.each(QUERIES)('%s: the pages put together are the whole listing, at every page size', async (_name, q) => {
    const whole = await listRequests(rt, q);
    expect(whole.length).toBeGreaterThan(q === QUERIES[0][1] ? TOTAL - 1 : 3);
    for (const limit of [1, 4, 6, 50, 500]) {
      const { rows } = await allPages(q, limit);
      expect(rows.map((r) => r.requestId)).toEqual(whole.map((r) => r.requestId));
    }
  });

  it('the listing holds ties on a due date, and no page splits one wrongly', async () => {
    const whole = await listRequests(rt, { now });
    const dueDates = whole.map((r) => r.dueAt);
    expect(new Set(dueDates).size).toBeLessThan(whole.length);
    expect(whole).toHaveLength(TOTAL);
  });

  it('a page reads about a page of the index, not all of it', async () => {
    scanned = 0;
    await listRequests(rt, { now });
    const wholeRead = scanned;
    expect(wholeRead).toBeGreaterThanOrEqual(TOTAL);
    const { reads } = await allPages({ now }, 5);
    // Each of the two partitions reads one Query page of limit + 1 + 16 items at most (plus a tie group).
    for (const r of reads) expect(r).toBeLessThanOrEqual(2 * (5 + 1 + 16) + 12);
    expect(Math.max(...reads)).toBeLessThan(wholeRead / 3);
  });

  it('a page that starts after the end of a due range reads nothing and ends the list', async () => {
    const last = (await listRequests(rt, { now, dueWithinDays: 7 })).at(-1)!;
    const beyond = await requestListPage(rt, { now, dueWithinDays: 7 }, { after: { dueAt: '2099-01-01T00:00:00.000Z', requestId: last.requestId }, limit: 5 });
    expect(beyond).toEqual({ requests: [], more: false });
  });
});

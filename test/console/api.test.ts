/**
 * The console's API without a browser, on the local engine (approval required): roles are
 * enforced before any AWS call (403 JSON), input errors name the field, starting is idempotent
 * as `dsr start`, approval takes exactly the plan hash, holds are placed and released, and no
 * answer to anyone carries an identifier of the subject.
 */
import { startConsole, found, identifiersOf, plain, until, verification, type ConsoleEnv } from './support';

let c: ConsoleEnv;
const taken: string[] = [];

beforeAll(async () => {
  c = await startConsole(41);
}, 300_000);

afterAll(async () => {
  await c?.close();
});

describe('console API', () => {
  it('refuses a caller without a token (401) and an auditor every write (403 before any call)', async () => {
    expect((await c.call('none', 'GET', '/api/requests')).status).toBe(401);
    const writes: Array<[string, string, unknown]> = [
      ['POST', '/api/requests', { requestId: 'x-1', type: 'erasure', subjectId: 'cust-1', verification: verification('T-1') }],
      ['POST', '/api/requests/x-1/approve', { planHash: 'a'.repeat(64) }],
      ['POST', '/api/requests/x-1/reject', { planHash: 'a'.repeat(64), reference: 'R' }],
      ['POST', '/api/holds', { scope: 'store', store: 'invoices', kind: 'litigation', reference: 'CASE-1' }],
      ['GET', '/api/holds', undefined],
      ['POST', '/api/holds/hold-000000000000/release', {}],
      ['POST', '/api/sweeps', {}],
    ];
    for (const [method, path, body] of writes) {
      const res = await c.call('auditor', method, path, body);
      expect({ path, status: res.status, error: res.body.error }).toEqual({ path, status: 403, error: 'forbidden' });
      expect(res.body.message).toMatch(/your role may not/);
    }
    expect(c.env.t.engine.denials).toEqual([]);
  });

  it('names the field of a bad input, from the same schemas and checks as dsr start', async () => {
    const bad = await c.call('support', 'POST', '/api/requests', { requestId: 'has space', type: 'erasure', subjectId: '', verification: verification('T-2') });
    expect(bad.status).toBe(400);
    const fields = (bad.body.fields as Array<{ field: string }>).map((f) => f.field).sort();
    expect(fields).toEqual(['requestId', 'subjectId']);
    const control = await c.call('support', 'POST', '/api/requests', { requestId: 'ok-1', type: 'erasure', subjectId: 'a\nb', verification: verification('T-2') });
    expect(control.status).toBe(400);
    expect(control.body.fields).toEqual([{ field: 'subjectId', message: expect.stringMatching(/control character/) }]);
    expect(JSON.stringify(control.body)).not.toContain('a\\nb');
    const type = await c.call('support', 'POST', '/api/requests', { requestId: 'ok-1', type: 'erase', subjectId: 'x', verification: verification('T-2') });
    expect((type.body.fields as Array<{ field: string }>)[0].field).toBe('type');
  });

  it('starts a withdrawal of consent with its purposes; an unknown or missing purpose is named as the field', async () => {
    const s = plain(c.env.report.subjects, taken);
    const unknown = await c.call('support', 'POST', '/api/requests', { requestId: 'api-wc-0', type: 'withdraw-consent', subjectId: s.subjectId, purposes: ['newsletters'], verification: verification('T-3') });
    expect(unknown.status).toBe(400);
    expect(unknown.body.fields).toEqual([{ field: 'purposes', message: expect.stringMatching(/unknown purpose "newsletters": the data map declares analytics/) }]);
    const missing = await c.call('support', 'POST', '/api/requests', { requestId: 'api-wc-0', type: 'objection', subjectId: s.subjectId, verification: verification('T-3') });
    expect((missing.body.fields as Array<{ field: string }>)[0].field).toBe('purposes');
    const started = await c.call('support', 'POST', '/api/requests', { requestId: 'api-wc-1', type: 'withdraw-consent', subjectId: s.subjectId, purposes: ['marketing', 'billing'], verification: verification('T-3') });
    expect(started.status).toBe(202);
    expect(JSON.stringify(started.body)).not.toContain(s.subjectId);
  });

  it('starts an erasure idempotently, approves exactly its plan hash, and no answer names the subject', async () => {
    const s = plain(c.env.report.subjects, taken);
    const secrets = await identifiersOf(c.env, s);
    expect(secrets.length).toBeGreaterThan(5);
    const body = { requestId: 'api-er-1', type: 'erasure', subjectId: s.subjectId, verification: verification('TICKET-9') };
    const first = await c.call('support', 'POST', '/api/requests', body);
    expect(first.status).toBe(202);
    const again = await c.call('support', 'POST', '/api/requests', body);
    expect(again.status).toBe(202);
    const other = await c.call('support', 'POST', '/api/requests', { ...body, type: 'access' });
    expect(other).toMatchObject({ status: 409, body: { error: 'conflict' } });

    const waiting = await until(c, 'api-er-1', (d) => d.running === false && d.status !== 'running' && d.status !== 'unknown');
    // The auditor sees no request item: its status comes from the executions.
    const support = await c.call('support', 'GET', '/api/requests/api-er-1');
    expect(support.body).toMatchObject({ status: 'awaiting-approval', awaitingApproval: true });
    const planHash = (support.body.plan as { planHash: string }).planHash;
    expect(planHash).toMatch(/^[0-9a-f]{64}$/);
    expect(waiting.plan).toMatchObject({ planHash });

    const prefix = await c.call('support', 'POST', '/api/requests/api-er-1/approve', { planHash: planHash.slice(0, 12) });
    expect(prefix.body.fields).toEqual([{ field: 'planHash', message: expect.stringMatching(/full plan hash/) }]);
    const wrong = await c.call('support', 'POST', '/api/requests/api-er-1/approve', { planHash: 'f'.repeat(64) });
    // A well-formed hash of another plan: the ledger's conditional approval refuses it.
    expect(wrong).toMatchObject({ status: 409, body: { error: 'conflict', message: expect.stringMatching(/the plan awaiting approval is [0-9a-f]{12}…/) } });
    const ok = await c.call('support', 'POST', '/api/requests/api-er-1/approve', { planHash });
    expect(ok).toMatchObject({ status: 202, body: { planHash, status: 'approved' } });

    const done = await until(c, 'api-er-1', (d) => d.status === 'completed' && d.receipt !== null);
    expect(done.chain).toMatchObject({ ok: true, includesReceipt: true });
    expect((done.timeline as unknown[]).length).toBeGreaterThan(1);
    const list = await c.call('auditor', 'GET', '/api/requests?type=erasure');
    expect((list.body.requests as Array<{ requestId: string }>).map((r) => r.requestId)).toContain('api-er-1');
    await c.call('support', 'GET', '/api/requests');
    await c.call('support', 'GET', '/api/requests/api-er-1');
    // The request body support sent is the only place the id may be; no answer carries it.
    expect(found(c.answers.join('\n'), secrets)).toEqual([]);
  }, 240_000);

  it('rejects a plan with a reference, and places, lists and releases a hold without showing its subject', async () => {
    const s = plain(c.env.report.subjects, taken);
    const secrets = await identifiersOf(c.env, s);
    expect((await c.call('support', 'POST', '/api/requests', { requestId: 'api-er-2', type: 'erasure', subjectId: s.subjectId, verification: verification('TICKET-10') })).status).toBe(202);
    await until(c, 'api-er-2', (d) => d.running === false && d.plan !== null);
    const planHash = ((await c.call('support', 'GET', '/api/requests/api-er-2')).body.plan as { planHash: string }).planHash;
    const rejected = await c.call('support', 'POST', '/api/requests/api-er-2/reject', { planHash, reference: 'REVIEW-3' });
    expect(rejected).toMatchObject({ status: 200, body: { status: 'rejected' } });
    expect((await c.call('support', 'POST', '/api/requests/api-er-2/approve', { planHash })).status).toBe(409);

    const placed = await c.call('support', 'POST', '/api/holds', { scope: 'subject', subjectId: s.subjectId, kind: 'litigation', reference: 'CASE-77' });
    expect(placed.status).toBe(201);
    const holdId = (placed.body.hold as { holdId: string }).holdId;
    const unknown = await c.call('support', 'POST', '/api/holds', { scope: 'subject', subjectId: 'nobody-at-all', kind: 'litigation', reference: 'CASE-78' });
    expect(unknown).toMatchObject({ status: 400, body: { fields: [{ field: 'subjectId' }] } });
    const noStore = await c.call('support', 'POST', '/api/holds', { scope: 'store', store: 'nope', kind: 'litigation', reference: 'CASE-79' });
    expect(noStore).toMatchObject({ status: 400, body: { fields: [{ field: 'store' }] } });
    const holds = (await c.call('support', 'GET', '/api/holds')).body.holds as Array<Record<string, unknown>>;
    expect(holds.find((h) => h.holdId === holdId)).toMatchObject({ scope: 'subject', status: 'active', placedBy: 'support-1' });
    expect(holds.every((h) => !('subjectId' in h))).toBe(true);
    expect((await c.call('support', 'POST', `/api/holds/${holdId}/release`, {})).status).toBe(200);
    expect((await c.call('support', 'POST', `/api/holds/${holdId}/release`, {})).status).toBe(409);
    expect(found(c.answers.join('\n'), secrets)).toEqual([]);
  }, 240_000);

  it('starts a sweep run and lists sweep runs for both roles; verifies the chain', async () => {
    const started = await c.call('support', 'POST', '/api/sweeps', {});
    expect(started.status).toBe(202);
    const deadline = Date.now() + 60_000;
    let sweeps: Array<{ sweepId: string; status: string }> = [];
    while (Date.now() < deadline) {
      sweeps = (await c.call('auditor', 'GET', '/api/sweeps')).body.sweeps as typeof sweeps;
      if (sweeps.find((s) => s.sweepId === started.body.sweepId)?.status === 'SUCCEEDED') break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(sweeps.find((s) => s.sweepId === started.body.sweepId)).toMatchObject({ status: 'SUCCEEDED' });
    expect((await c.call('auditor', 'GET', '/api/receipts/verify')).body).toMatchObject({ ok: true });
  }, 120_000);
});

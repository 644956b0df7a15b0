/**
 * `withdraw-consent` and `objection` end to end on the local engine (IAM enforced), against the
 * seeded reference operator: the whole account and consent tables are read before and after,
 * and exactly the attributes the data map names for the purposes may differ; a purpose whose
 * basis overrides the request is refused with that basis; an unknown purpose is bad input;
 * two requests side by side; a failure half-way is resumed without writing again what was
 * written; and neither the execution histories nor the receipts carry a personal value.
 */
import { CreateTableCommand, DeleteTableCommand, PutItemCommand, ScanCommand, UpdateItemCommand, waitUntilTableExists, waitUntilTableNotExists, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { GetExecutionHistoryCommand, ListExecutionsCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { Ledger } from '../../functions/core/ledger';
import { createRequest, requestHash } from '../../functions/core/request';
import { OPERATOR_TABLES } from '../../examples/voip-operator/infrastructure';
import { startSeededEngine, type SeededEngine, type TestEngine } from '../support/engine';

const NOW = '2026-11-02T12:00:00.000Z';
let env: SeededEngine;
let t: TestEngine;

type Item = Record<string, AttributeValue>;
const verification = ['--verified-by', 'agent-7', '--verification-method', 'account-login', '--verification-ref', 'TICKET-31', '--verified-at', NOW];
const lastJson = (out: string) => JSON.parse(out.trim().split('\n').pop() ?? '{}');

async function start(type: string, requestId: string, subject: string, purposes: string) {
  const r = await t.dsr('start', '--type', type, '--subject', subject, '--request-id', requestId, '--purposes', purposes, ...verification, '--wait', '--json');
  return { ...r, summary: r.out.trim() ? lastJson(r.out) : undefined };
}

/** Every item of a table, by its key. */
async function table(name: string, keys: string[]): Promise<Map<string, Item>> {
  const out = new Map<string, Item>();
  let start: Item | undefined;
  do {
    const page = await env.ddb.send(new ScanCommand({ TableName: name, ExclusiveStartKey: start, ConsistentRead: true }));
    for (const item of page.Items ?? []) out.set(keys.map((k) => item[k]?.S).join('|'), item);
    start = page.LastEvaluatedKey;
  } while (start);
  return out;
}

const accounts = () => table('voip-accounts', ['accountId']);
const consents = () => table('voip-consents', ['accountId', 'purpose']);

/** The attribute paths (`consent.analytics`) whose values differ between two snapshots of a table, per item key. */
function differences(before: Map<string, Item>, after: Map<string, Item>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  const paths = (item: Item, prefix = ''): Map<string, string> => {
    const m = new Map<string, string>();
    for (const [k, v] of Object.entries(item)) {
      if (v.M) for (const [p, x] of paths(v.M, `${prefix}${k}.`)) m.set(p, x);
      else m.set(`${prefix}${k}`, JSON.stringify(v));
    }
    return m;
  };
  for (const key of new Set([...before.keys(), ...after.keys()])) {
    const a = paths(before.get(key) ?? {});
    const b = paths(after.get(key) ?? {});
    const changed = [...new Set([...a.keys(), ...b.keys()])].filter((p) => a.get(p) !== b.get(p)).sort();
    if (changed.length > 0) out[key] = changed;
  }
  return out;
}

/** Accounts that have opted in to marketing and analytics, and have a granted marketing item in the consent table. */
function optedIn(acc: Map<string, Item>, con: Map<string, Item>, exclude: string[] = []): string[] {
  return [...acc.values()]
    .filter((a) => a.marketingConsent?.BOOL === true && a.consent?.M?.analytics?.BOOL === true && a.fraudInvestigation?.BOOL === false)
    .map((a) => a.accountId.S!)
    .filter((id) => con.get(`${id}|marketing`)?.status?.S === 'granted' && !exclude.includes(id) && /^cust-[0-9]+$/.test(id));
}

beforeAll(async () => {
  env = await startSeededEngine({ seed: 11, now: NOW });
  ({ t } = env);
}, 300_000);

afterAll(() => env?.close());

describe('withdraw-consent and objection', () => {
  let first: string;

  it('a withdrawal of marketing and analytics changes exactly the mapped attributes of that subject, nothing else in either table', async () => {
    const [acc, con] = [await accounts(), await consents()];
    [first] = optedIn(acc, con);
    expect(first).toBeTruthy();
    const r = await start('withdraw-consent', 'wc-1', first, 'marketing,analytics');
    expect({ code: r.code, err: r.err }).toEqual({ code: 0, err: '' });
    expect(r.summary).toMatchObject({ status: 'completed', type: 'withdraw-consent', execution: { status: 'SUCCEEDED' } });

    const [acc2, con2] = [await accounts(), await consents()];
    expect(differences(acc, acc2)).toEqual({ [first]: ['consent.analytics', 'marketingConsent'] });
    expect(differences(con, con2)).toEqual({ [`${first}|marketing`]: ['status'] });
    expect(acc2.get(first)!.marketingConsent).toEqual({ BOOL: false });
    expect(acc2.get(first)!.consent.M!.analytics).toEqual({ BOOL: false });
    expect(con2.get(`${first}|marketing`)!.status).toEqual({ S: 'withdrawn' });

    expect(r.summary.purposes).toEqual([
      { purpose: 'marketing', outcome: 'applied', basis: 'consent', citation: null, places: 2, items: 2, changed: 2, unchanged: 0, absent: 0 },
      { purpose: 'analytics', outcome: 'applied', basis: 'consent', citation: null, places: 1, items: 1, changed: 1, unchanged: 0, absent: 0 },
    ]);
    const receipt = JSON.parse((await t.dsr('receipt', 'wc-1', '--json')).out).receipt;
    expect(receipt).toMatchObject({ kind: 'request', type: 'withdraw-consent', outcome: 'completed', consentTotals: { applied: 2, refused: 0, items: 3, changed: 3 } });
    const place = receipt.purposes[0].places[0];
    expect(place).toMatchObject({ store: 'accounts', attribute: 'marketingConsent', items: 1, changed: 1 });
    expect(place.beforeHash).toMatch(/^hmac:[0-9a-f]{32}$/);
    expect(place.afterHash).not.toBe(place.beforeHash);
    const text = (await t.dsr('status', 'wc-1')).out;
    expect(text).toMatch(/purpose marketing: consent withdrawn in 2 place\(s\): 2 item\(s\), 2 changed/);
    expect((await t.dsr('receipt', 'wc-1')).out).toMatch(/Per purpose[\s\S]*analytics[\s\S]*Consent attributes set[\s\S]*consent\.analytics/);
  }, 300_000);

  it('the same withdrawal again writes nothing: every place is already withdrawn', async () => {
    const acc = await accounts();
    const r = await start('withdraw-consent', 'wc-1-again', first, 'marketing');
    expect(r.code).toBe(0);
    expect(r.summary.purposes[0]).toMatchObject({ purpose: 'marketing', outcome: 'applied', items: 2, changed: 0, unchanged: 2 });
    expect(differences(acc, await accounts())).toEqual({});
  }, 300_000);

  it('an objection to a purpose whose basis overrides it is refused with that basis; the consent-based one is upheld', async () => {
    const [acc, con] = [await accounts(), await consents()];
    const [subject] = optedIn(acc, con, [first]);
    const r = await start('objection', 'obj-1', subject, 'fraud-prevention,marketing');
    expect(r.code).toBe(0);
    const fraud = r.summary.purposes.find((p: { purpose: string }) => p.purpose === 'fraud-prevention');
    expect(fraud).toMatchObject({ outcome: 'refused', basis: 'fraud-prevention', places: 0, items: 0 });
    expect(fraud.citation).toMatch(/PIPEDA s\.7\(3\)\(d\.2\)/);
    const receipt = JSON.parse((await t.dsr('receipt', 'obj-1', '--json')).out).receipt;
    expect(receipt.purposes.find((p: { purpose: string }) => p.purpose === 'fraud-prevention')).toMatchObject({ outcome: 'refused', reason: 'overriding-basis', basis: 'fraud-prevention', places: [] });
    expect(differences(acc, await accounts())).toEqual({ [subject]: ['marketingConsent'] });
    expect((await t.dsr('status', 'obj-1')).out).toMatch(/purpose fraud-prevention: refused: its basis is fraud-prevention \(PIPEDA/);
    expect((await t.dsr('history', 'obj-1')).out).toMatch(/ApplyConsent.*fraud-prevention refused \(basis fraud-prevention\); marketing withdrawn: 2 of 2 items changed/);

    // Withdrawing consent to a purpose that never rested on consent is refused the same way.
    const billing = await start('withdraw-consent', 'wc-billing', subject, 'billing');
    expect(billing.summary.purposes).toEqual([expect.objectContaining({ purpose: 'billing', outcome: 'refused', basis: 'legal-obligation' })]);
    expect(billing.summary.purposes[0].citation).toMatch(/Income Tax Act/);
  }, 300_000);

  it('an unknown purpose is bad input naming it and the declared ones; nothing is recorded', async () => {
    const r = await t.dsr('start', '--type', 'withdraw-consent', '--subject', first, '--request-id', 'wc-unknown', '--purposes', 'marketing,newsletters', ...verification);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--purposes: unknown purpose "newsletters": the data map declares analytics, billing, fraud-prevention, marketing, service-delivery, targeted-advertising/);
    expect(r.err).not.toContain(first);
    expect((await t.dsr('status', 'wc-unknown')).code).not.toBe(0);
    const none = await t.dsr('start', '--type', 'objection', '--subject', first, '--request-id', 'obj-none', ...verification);
    expect(none.code).toBe(2);
    expect(none.err).toMatch(/--purposes: an objection request names the purposes it is about, e.g. --purposes marketing,analytics/);
    const stray = await t.dsr('start', '--type', 'erasure', '--subject', first, '--request-id', 'er-purposes', '--purposes', 'marketing', ...verification);
    expect(stray.code).toBe(2);
    expect(stray.err).toMatch(/only withdraw-consent and objection requests name purposes/);
  }, 300_000);

  it('the machine refuses a purpose the data map no longer declares (recorded past the CLI\'s check), in a state named for it', async () => {
    const acc = await accounts();
    // As if the map had lost the purpose between `dsr start` and the run: recorded directly.
    const request = createRequest({ requestId: 'wc-gone', subjectId: first, type: 'withdraw-consent', purposes: ['newsletters'], verification: { method: 'account-login', verifiedBy: 'agent-7', verifiedAt: NOW, reference: 'TICKET-32' } }, new Date(NOW));
    await new Ledger(env.ddb, 'dsr-ledger').putRequest(request, new Date(NOW), () => false);
    const sfn = new SFNClient({});
    try {
      await sfn.send(new StartExecutionCommand({ stateMachineArn: process.env.DSR_STATE_MACHINE_ARN!, name: 'wc-gone', input: JSON.stringify({ requestId: 'wc-gone', requestHash: requestHash(request), mode: 'run' }) }));
    } finally {
      sfn.destroy();
    }
    const status = await t.dsr('status', 'wc-gone', '--json');
    let summary = lastJson(status.out);
    for (let i = 0; i < 100 && summary.execution.status === 'RUNNING'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      summary = lastJson((await t.dsr('status', 'wc-gone', '--json')).out);
    }
    expect(summary).toMatchObject({ status: 'refused', reason: 'unknown-purpose', execution: { status: 'FAILED', error: 'RequestRefused', cause: 'unknown-purpose' } });
    expect((await t.dsr('history', 'wc-gone')).out).toMatch(/RefusedUnknownPurpose/);
    expect(differences(acc, await accounts())).toEqual({});
  }, 300_000);

  it('two withdrawals side by side each change their own subject only', async () => {
    const [acc, con] = [await accounts(), await consents()];
    const targeted = [...acc.values()].filter((a) => a.consent?.M?.targetedAdvertising?.BOOL === true && con.get(`${a.accountId.S}|targeted-advertising`)).map((a) => a.accountId.S!);
    const [a, b] = targeted.filter((id) => /^cust-[0-9]+$/.test(id)).slice(0, 2);
    expect(b).toBeTruthy();
    const [ra, rb] = await Promise.all([start('withdraw-consent', 'wc-side-a', a, 'targeted-advertising'), start('withdraw-consent', 'wc-side-b', b, 'targeted-advertising,analytics')]);
    expect([ra.code, rb.code]).toEqual([0, 0]);
    const [acc2, con2] = [await accounts(), await consents()];
    const changedAccounts = differences(acc, acc2);
    expect(Object.keys(changedAccounts).sort()).toEqual([a, b].sort());
    expect(changedAccounts[a]).toEqual(['consent.targetedAdvertising']);
    expect(changedAccounts[b]).toEqual(acc.get(b)!.consent.M!.analytics.BOOL ? ['consent.analytics', 'consent.targetedAdvertising'] : ['consent.targetedAdvertising']);
    expect(differences(con, con2)).toEqual({ [`${a}|targeted-advertising`]: ['status'], [`${b}|targeted-advertising`]: ['status'] });
  }, 300_000);

  it('a failure half-way is resumed without writing again what was written', async () => {
    const [acc, con] = [await accounts(), await consents()];
    const [subject] = optedIn(acc, con, [first]).filter((id) => acc.get(id)!.marketingConsent?.BOOL === true).slice(-1);
    const spec = OPERATOR_TABLES.find((x) => x.TableName === 'voip-consents')!;
    // The consent table goes away: the account's attribute is set, the consent table's place fails.
    await env.ddb.send(new DeleteTableCommand({ TableName: 'voip-consents' }));
    await waitUntilTableNotExists({ client: env.ddb, maxWaitTime: 30 }, { TableName: 'voip-consents' });
    const failed = await start('withdraw-consent', 'wc-fail', subject, 'marketing');
    expect(failed.code).toBe(1);
    expect(failed.summary).toMatchObject({ status: 'failed' });
    expect(failed.summary.next).toMatch(/npx dsr resume wc-fail/);
    expect((await accounts()).get(subject)!.marketingConsent).toEqual({ BOOL: false });

    await env.ddb.send(new CreateTableCommand(spec));
    await waitUntilTableExists({ client: env.ddb, maxWaitTime: 30 }, { TableName: 'voip-consents' });
    for (const item of con.values()) await env.ddb.send(new PutItemCommand({ TableName: 'voip-consents', Item: item }));
    // Meanwhile the subject opts in again in the portal: the resume must not withdraw that a second time.
    await env.ddb.send(new UpdateItemCommand({ TableName: 'voip-accounts', Key: { accountId: { S: subject } }, UpdateExpression: 'SET marketingConsent = :t', ExpressionAttributeValues: { ':t': { BOOL: true } } }));

    const resumed = await t.dsr('resume', 'wc-fail', '--wait', '--json');
    expect({ code: resumed.code, err: resumed.err }).toEqual({ code: 0, err: '' });
    const summary = lastJson(resumed.out);
    expect(summary).toMatchObject({ status: 'completed', execution: { status: 'SUCCEEDED' } });
    expect(summary.execution.arn).toMatch(/:wc-fail--resume-1$/);
    expect((await accounts()).get(subject)!.marketingConsent).toEqual({ BOOL: true });
    expect((await consents()).get(`${subject}|marketing`)!.status).toEqual({ S: 'withdrawn' });
    const receipt = JSON.parse((await t.dsr('receipt', 'wc-fail--resume-1', '--json')).out).receipt;
    expect(receipt.purposes[0].places.map((p: { store: string; changed: number }) => [p.store, p.changed])).toEqual([['accounts', 1], ['consents', 1]]);
    expect((await t.dsr('receipt', 'verify')).code).toBe(0);
  }, 300_000);

  it('no execution history and no receipt holds a subject id or any personal value', async () => {
    const sfn = new SFNClient({});
    const executions = (await sfn.send(new ListExecutionsCommand({ stateMachineArn: process.env.DSR_STATE_MACHINE_ARN!, maxResults: 1000 }))).executions ?? [];
    expect(executions.length).toBeGreaterThanOrEqual(6);
    let text = '';
    for (const e of executions) text += JSON.stringify((await sfn.send(new GetExecutionHistoryCommand({ executionArn: e.executionArn, maxResults: 1000 }))).events);
    sfn.destroy();
    for (const id of ['wc-1', 'wc-1-again', 'obj-1', 'wc-billing', 'wc-gone', 'wc-side-a', 'wc-side-b', 'wc-fail', 'wc-fail--resume-1']) text += (await t.dsr('receipt', id, '--json')).out;
    expect(text).toContain('ApplyConsent');
    const values = env.report.subjects.flatMap((s) => Object.values(s.identifiers).flat());
    expect(values.filter((v) => text.includes(v))).toEqual([]);
  }, 300_000);
});

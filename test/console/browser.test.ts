/**
 * The console in a real browser: Debian's chromium driven by playwright-core (nothing
 * downloads a browser), against the local engine with approval required. A support user
 * starts an erasure in the form, approves its plan and watches it complete without reloading;
 * an auditor reads its trail and receipt and no identifier of the subject is on any page or in
 * any API answer; the auditor has no write control and the API refuses its writes; a bad input
 * shows the field's error; axe-core finds no serious or critical violation. Screenshots and
 * the page weight / first-render figures go to docs/console/ with DSR_CONSOLE_DOCS=1.
 */
import axe from 'axe-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { found, identifiersOf, plain, startConsole, until, type ConsoleEnv } from './support';

// The screenshots and figures in docs/console are refreshed on request (DSR_CONSOLE_DOCS=1), so `npm test` leaves the tree clean.
const DOCS = process.env.DSR_CONSOLE_DOCS ? path.join(__dirname, '../../docs/console') : fs.mkdtempSync(path.join(os.tmpdir(), 'dsr-console-shots-'));
let c: ConsoleEnv;
let browser: Browser;
const taken: string[] = [];

beforeAll(async () => {
  c = await startConsole(43);
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  fs.mkdirSync(DOCS, { recursive: true });
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await c?.close();
});

/** A page signed in as the role, with every API answer it receives kept for the search. */
async function signedIn(role: 'support' | 'auditor'): Promise<{ page: Page; answers: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const answers: string[] = [];
  page.on('response', (res) => {
    if (res.url().includes('/api/')) void res.text().then((t) => answers.push(t)).catch(() => undefined);
  });
  const user = c.server.users.users.find((u) => u.role === role)!;
  await page.goto(c.server.url);
  await page.getByLabel('User').fill(user.user);
  await page.getByLabel('Password').fill(user.password);
  await page.getByLabel('Password').press('Enter');
  await page.getByRole('heading', { name: 'Requests' }).waitFor();
  return { page, answers };
}

/** The page's globals, as the functions passed to page.evaluate see them (this file is type-checked for Node). */
type PageGlobals = { axe: typeof axe; marker?: number; document: { activeElement?: { id: string } | null } };

async function seriousViolations(page: Page): Promise<string[]> {
  await page.evaluate(axe.source);
  const result = await page.evaluate(() => (globalThis as unknown as PageGlobals).axe.run({ resultTypes: ['violations'] }));
  return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.help} (${v.nodes.length})`);
}

let erasureId = '';
let subjectSecrets: string[] = [];

describe('console in chromium', () => {
  it('support starts an erasure in the form, approves its plan, and watches it complete without a reload', async () => {
    const s = plain(c.env.report.subjects, taken);
    subjectSecrets = await identifiersOf(c.env, s);
    erasureId = 'web-er-1';
    const { page } = await signedIn('support');
    await page.getByRole('link', { name: 'Start a request' }).click();
    await page.getByLabel('Type').selectOption('erasure');
    await page.getByLabel('Request id').fill(erasureId);
    await page.getByLabel('Subject id (verified)').fill(s.subjectId);
    await page.getByLabel('Method').fill('id-document');
    await page.getByLabel('Reference (ticket, case)').fill('TICKET-77');
    await page.screenshot({ path: path.join(DOCS, 'start.png') });
    // Keyboard only: Enter in a field submits the form.
    await page.getByLabel('Reference (ticket, case)').press('Enter');
    await page.getByRole('heading', { name: `Request ${erasureId}` }).waitFor();
    await page.evaluate(() => ((globalThis as unknown as PageGlobals).marker = 42));
    await page.getByRole('button', { name: 'Approve this plan' }).waitFor({ timeout: 120_000 });
    expect(await page.locator('#status').textContent()).toBe('awaiting-approval');
    await page.screenshot({ path: path.join(DOCS, 'approval.png'), fullPage: true });
    await page.getByRole('button', { name: 'Approve this plan' }).click();
    await page.locator('#status', { hasText: 'completed' }).waitFor({ timeout: 120_000 });
    await page.locator('#chain', { hasText: 'Receipt chain intact' }).waitFor({ timeout: 30_000 });
    // The same document all along: the page followed the request without reloading.
    expect(await page.evaluate(() => (globalThis as unknown as PageGlobals).marker)).toBe(42);
    expect(await page.getByRole('cell', { name: 'plan-approved' }).count()).toBeGreaterThan(0);
    await page.goto(`${c.server.url}#/`);
    await page.getByRole('link', { name: erasureId }).waitFor();
    await page.screenshot({ path: path.join(DOCS, 'requests.png') });
    await page.context().close();
  }, 300_000);

  it('support filters the list by due date and cancels a request from its page; the auditor has no cancel control', async () => {
    const s = plain(c.env.report.subjects, taken);
    subjectSecrets.push(...(await identifiersOf(c.env, s)));
    // Received 40 days ago: past the 30-day deadline, and waiting for approval (so it can be cancelled).
    const receivedAt = new Date(Date.now() - 40 * 86_400_000).toISOString();
    const started = await c.call('support', 'POST', '/api/requests', { requestId: 'web-old-1', type: 'erasure', subjectId: s.subjectId, receivedAt, verification: { method: 'id-document', reference: 'T-40', verifiedBy: 'agent-7' } });
    expect(started.status).toBe(202);
    await until(c, 'web-old-1', (d) => d.running === false && d.plan !== null);

    const auditor = await signedIn('auditor');
    await auditor.page.goto(`${c.server.url}#/requests/web-old-1`);
    await auditor.page.locator('#chain').waitFor();
    expect(await auditor.page.getByRole('button', { name: 'Cancel this request' }).count()).toBe(0);
    await auditor.page.context().close();

    const { page } = await signedIn('support');
    await page.getByRole('link', { name: erasureId }).waitFor();
    await page.getByLabel('Due').selectOption('overdue');
    // web-old-1 is overdue, so it shows in the unfiltered list too: wait for the filtered answer to replace that list.
    await page.getByRole('link', { name: erasureId }).waitFor({ state: 'detached' });
    await page.getByRole('link', { name: 'web-old-1' }).waitFor();
    await page.getByRole('cell', { name: /^-\d+ \(overdue\)$/ }).first().waitFor();
    await page.screenshot({ path: path.join(DOCS, 'requests-overdue.png') });
    await page.getByLabel('Origin').selectOption('retention-schedule');
    await page.getByText('No requests match.').waitFor();
    await page.getByLabel('Origin').selectOption('');
    await page.getByRole('link', { name: 'web-old-1' }).click();
    await page.getByLabel(/Why it is cancelled/).fill('the subject withdrew the request');
    await page.getByRole('button', { name: 'Cancel this request' }).click();
    await page.locator('#status', { hasText: 'cancelled' }).waitFor({ timeout: 60_000 });
    expect(await page.getByRole('button', { name: 'Cancel this request' }).count()).toBe(0);
    await page.locator('#chain', { hasText: 'Receipt chain intact' }).waitFor();
    await page.goto(`${c.server.url}#/`);
    await page.getByLabel('Due').selectOption('overdue');
    // Answered now: its clock has stopped, so it is overdue no longer.
    await page.getByText('No requests match.').waitFor();
    await page.context().close();
  }, 300_000);

  it('an auditor reads the trail and receipt, with no identifier of the subject on the page or in any API answer', async () => {
    const { page, answers } = await signedIn('auditor');
    await page.getByRole('link', { name: erasureId }).click();
    await page.locator('#chain', { hasText: 'Receipt chain intact' }).waitFor();
    await page.getByRole('heading', { name: 'Audit trail, state by state' }).waitFor();
    expect(await page.locator('.timeline li').count()).toBeGreaterThan(1);
    await page.screenshot({ path: path.join(DOCS, 'audit-trail.png'), fullPage: true });
    const text = (await page.locator('body').innerText()) + (await page.content());
    expect(text).toContain('EraseStores');
    expect(found(text, subjectSecrets)).toEqual([]);
    await page.waitForLoadState('networkidle');
    expect(answers.length).toBeGreaterThan(2);
    expect(found(answers.join('\n'), subjectSecrets)).toEqual([]);
    await page.context().close();
  }, 120_000);

  it('the auditor has no start, approve or hold control, and the API refuses them (403)', async () => {
    const { page } = await signedIn('auditor');
    expect(await page.getByRole('link', { name: 'Start a request' }).count()).toBe(0);
    expect(await page.getByRole('link', { name: 'Holds' }).count()).toBe(0);
    await page.goto(`${c.server.url}#/requests/${erasureId}`);
    await page.locator('#chain').waitFor();
    expect(await page.getByRole('button', { name: /Approve|Reject/ }).count()).toBe(0);
    await page.goto(`${c.server.url}#/sweeps`);
    await page.getByRole('heading', { name: 'Retention sweeps' }).waitFor();
    expect(await page.getByRole('button', { name: 'Run a sweep now' }).count()).toBe(0);
    const statuses = await page.evaluate(async () => {
      const auth = { authorization: `Bearer ${sessionStorage.getItem('dsr-console-token')}`, 'content-type': 'application/json' };
      const post = (p: string, b: unknown) => fetch(p, { method: 'POST', headers: auth, body: JSON.stringify(b) }).then((r) => r.status);
      // On the auditor's own path (where the page sends its calls) and on support's.
      return [
        await post('/api/audit/requests', { requestId: 'aud-1', type: 'erasure', subjectId: 'x', verification: { method: 'm', reference: 'r', verifiedBy: 'a' } }),
        await post('/api/audit/requests/web-er-1/approve', { planHash: 'a'.repeat(64) }),
        await post('/api/audit/holds', { scope: 'store', store: 'invoices', kind: 'litigation', reference: 'C-1' }),
        await post('/api/audit/requests/web-old-1/cancel', { reason: 'r' }),
        await post('/api/requests/web-old-1/cancel', { reason: 'r' }),
      ];
    });
    expect(statuses).toEqual([403, 403, 403, 403, 403]);
    await page.context().close();
  }, 120_000);

  it('a bad input shows the field\'s error next to the field, and focus moves to it', async () => {
    const { page } = await signedIn('support');
    await page.goto(`${c.server.url}#/start`);
    await page.getByLabel('Request id').fill('has spaces!');
    await page.getByLabel('Subject id (verified)').fill('cust-x');
    await page.getByLabel('Method').fill('id-document');
    await page.getByLabel('Reference (ticket, case)').fill('T-1');
    await page.getByRole('button', { name: 'Start' }).click();
    const error = page.locator('#s-request-error');
    await error.waitFor();
    expect(await error.textContent()).toMatch(/must be 1-64 letters, digits/);
    expect(await page.getByLabel('Request id').getAttribute('aria-invalid')).toBe('true');
    expect(await page.evaluate(() => (globalThis as unknown as PageGlobals).document.activeElement?.id)).toBe('s-request');
    await page.screenshot({ path: path.join(DOCS, 'start-error.png') });

    // A withdrawal of consent names its purposes; one the data map does not declare is named back.
    await page.getByLabel('Type').selectOption('withdraw-consent');
    await page.getByLabel('Request id').fill('req-consent-form');
    await page.getByLabel('Purposes (withdraw-consent, objection)').fill('marketing, newsletters');
    await page.getByRole('button', { name: 'Start' }).click();
    const purposes = page.locator('#s-purposes-error');
    await purposes.waitFor();
    expect(await purposes.textContent()).toMatch(/unknown purpose "newsletters"/);
    expect(await page.getByLabel('Purposes (withdraw-consent, objection)').getAttribute('aria-invalid')).toBe('true');
    await page.context().close();
  }, 60_000);

  it('axe-core finds no serious or critical violation on the main pages', async () => {
    const { page } = await signedIn('support');
    const problems: Record<string, string[]> = {};
    for (const hash of ['#/', `#/requests/${erasureId}`, '#/requests/web-old-1', '#/start', '#/holds', '#/sweeps', '#/retention']) {
      await page.goto(`${c.server.url}${hash}`);
      await page.locator('main h1').waitFor();
      await page.waitForLoadState('networkidle');
      problems[hash] = await seriousViolations(page);
    }
    await page.goto(`${c.server.url}#/holds`);
    await page.getByRole('heading', { name: 'Legal holds' }).waitFor();
    await page.screenshot({ path: path.join(DOCS, 'holds.png') });
    expect(problems).toEqual(Object.fromEntries(Object.keys(problems).map((k) => [k, []])));
    await page.context().close();
  }, 120_000);

  it('measures the page weight and the time to first render (recorded in docs/console/figures.json)', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const bytes: Record<string, number> = {};
    page.on('response', (res) => {
      const name = new URL(res.url()).pathname;
      if (!name.startsWith('/api/')) void res.body().then((b) => (bytes[name] = b.length)).catch(() => undefined);
    });
    const runs: number[] = [];
    for (let i = 0; i < 5; i++) {
      await page.goto(c.server.url, { waitUntil: 'load' });
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
      runs.push(await page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? -1));
    }
    await page.waitForLoadState('networkidle');
    const total = Object.entries(bytes).filter(([n]) => /(^\/$|\.html$|\.js$|\.css$)/.test(n)).reduce((a, [, n]) => a + n, 0);
    const sorted = [...runs].sort((a, b) => a - b);
    const figures = { measuredAt: new Date().toISOString(), bytes, htmlJsCssBytes: total, firstContentfulPaintMs: { runs, median: sorted[2] } };
    fs.writeFileSync(path.join(DOCS, 'figures.json'), `${JSON.stringify(figures, null, 2)}\n`);
    expect(total).toBeGreaterThan(1000);
    expect(sorted[2]).toBeGreaterThan(0);
    await context.close();
  }, 60_000);
});

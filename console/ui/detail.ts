/**
 * One request's audit trail: where it stands (updated while it runs, by polling), the plan's
 * counts per store and decision with their bases, approve/reject for support, the receipt with
 * its chain check, the bundle's hash and size (a link for support), cancel for support, and
 * every execution state by state.
 */
import { useEffect, useState } from 'preact/hooks';
import { html } from 'htm/preact';
import { api, day, time, type Me } from './api';

interface Row {
  decision: string;
  basis: string;
  role: string;
  count: number;
  firstDue?: string;
  lastDue?: string;
}

interface Detail {
  requestId: string;
  type: string | null;
  status: string;
  reason: string | null;
  receivedAt: string | null;
  dueAt: string | null;
  daysLeft: number | null;
  verification: { method: string; reference: string; verifiedAt: string } | null;
  running: boolean;
  progress: string | null;
  awaitingApproval: boolean;
  plan: { planHash: string; totals: Record<string, number>; breakdown: Record<string, Row[]> } | null;
  timeline: Array<{ at: string; lines: string[] }>;
  receipt: { sequence: number; hash: string; previousHash: string; sections: Array<{ title: string; rows: string[][] }> } | null;
  chain: { ok: boolean; count: number; problems: string[]; includesReceipt: boolean | null };
  bundle: { sha256: string; bytes: number | null } | null;
}

/** Statuses after which nothing moves by itself: polling stops. */
const SETTLED = new Set(['completed', 'failed', 'refused', 'rejected', 'routed-to-person', 'awaiting-approval', 'cancelled']);
/** Answered: a cancel is refused (functions/core/deadlines.ts ANSWERED). */
const ANSWERED = new Set(['completed', 'refused', 'cancelled']);

function Cancel({ d, reload }: { d: Detail; reload: () => void }) {
  const [message, setMessage] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    const reason = String(new FormData(e.target as HTMLFormElement).get('reason') ?? '').trim();
    setBusy(true);
    const res = await api<{ status: string }>('POST', `/api/requests/${d.requestId}/cancel`, { reason });
    setBusy(false);
    if (res.status >= 300) return setMessage(res.body.message ?? 'refused');
    setMessage(res.body.status === 'cancel-requested' ? 'Cancel requested: the request stops at its next unit of work.' : '');
    reload();
  };
  return html`<section aria-labelledby="cancel-h">
    <h2 id="cancel-h">Cancel</h2>
    <p class="muted">A running request stops between units of work (a store begun is finished); the receipt says what was done.</p>
    <form onSubmit=${submit}>
      <label for="cancel-reason">Why it is cancelled (kept in the ledger; the receipt carries its hash)</label>
      <input id="cancel-reason" name="reason" required maxlength="1024" />
      ${message && html`<p class="error" role="alert">${message}</p>`}
      <div><button class="secondary" type="submit" disabled=${busy}>Cancel this request</button></div>
    </form>
  </section>`;
}

/** The bundle's hash and size for everyone; support asks for a link that expires (it is never kept in the page). */
function Bundle({ d, me }: { d: Detail; me: Me }) {
  const [link, setLink] = useState<{ url: string; expiresAt: string } | null>(null);
  const [error, setError] = useState('');
  const b = d.bundle!;
  const get = async () => {
    const res = await api<{ url: string; expiresAt: string }>('GET', `/api/requests/${d.requestId}/bundle`);
    if (res.status === 200) setLink(res.body);
    else setError(res.body.message ?? 'could not make a link');
  };
  return html`<section aria-labelledby="bundle-h">
    <h2 id="bundle-h">${d.type === 'access' ? 'Access report' : 'Bundle'}</h2>
    <p>SHA-256 <code id="bundle-hash">${b.sha256}</code>${b.bytes !== null ? `, ${b.bytes} bytes` : ''}</p>
    ${me.role === 'support' && (link ? html`<p><a id="bundle-link" href=${link.url} rel="noreferrer">Download</a> <span class="muted">(the link expires at ${time(link.expiresAt)})</span></p>` : html`<button type="button" onClick=${get}>Get a download link</button>`)}
    ${error && html`<p class="error" role="alert">${error}</p>`}
  </section>`;
}

function Section({ s }: { s: { title: string; rows: string[][] } }) {
  const [head, ...rows] = s.rows;
  const tabular = s.rows.every((r) => r.length === head.length) && head.length > 2;
  return html`<section>
    <h3>${s.title}</h3>
    <table>
      ${tabular ? html`<thead><tr>${head.map((c) => html`<th scope="col">${c}</th>`)}</tr></thead>` : null}
      <tbody>${(tabular ? rows : s.rows).map((r) => html`<tr>${r.map((c, i) => (i === 0 && !tabular ? html`<th scope="row">${c}</th>` : html`<td class=${/^[0-9a-f]{64}$/.test(c) ? 'hash' : ''}>${c}</td>`))}</tr>`)}</tbody>
    </table>
  </section>`;
}

function Approval({ d, reload }: { d: Detail; reload: () => void }) {
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const planHash = d.plan!.planHash;
  const act = async (path: string, body: Record<string, unknown>) => {
    setBusy(true);
    const res = await api('POST', `/api/requests/${d.requestId}/${path}`, body);
    setBusy(false);
    if (res.status >= 300) setError(res.body.message ?? 'refused');
    else reload();
  };
  const reject = (e: Event) => {
    e.preventDefault();
    const reference = String(new FormData(e.target as HTMLFormElement).get('reference') ?? '');
    void act('reject', { planHash, reference });
  };
  return html`<section aria-labelledby="approval-h">
    <h2 id="approval-h">Approval</h2>
    <p>This erasure waits for approval of plan <code>${planHash}</code>. Approving applies exactly this plan.</p>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    <button type="button" disabled=${busy} onClick=${() => act('approve', { planHash })}>Approve this plan</button>
    <form onSubmit=${reject}>
      <label for="reject-ref">Rejection reference (ticket or case)</label>
      <input id="reject-ref" name="reference" required maxlength="256" />
      <div><button class="secondary" type="submit" disabled=${busy}>Reject</button></div>
    </form>
  </section>`;
}

export function DetailPage({ id, me }: { id: string; me: Me }) {
  const [d, setD] = useState<Detail | null>(null);
  const [error, setError] = useState('');
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let stop = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = async () => {
      const res = await api<Detail>('GET', `/api/requests/${id}`);
      if (stop) return;
      if (res.status !== 200) return setError(res.body.message ?? 'could not load');
      setD(res.body);
      // A running request is followed without reloading the page.
      if (res.body.running || !SETTLED.has(res.body.status)) timer = setTimeout(load, 1500);
    };
    void load();
    return () => {
      stop = true;
      if (timer) clearTimeout(timer);
    };
  }, [id, tick]);
  if (error) return html`<main><p class="error" role="alert">${error}</p></main>`;
  if (!d) return html`<main><p>Loading…</p></main>`;
  const rows = Object.entries(d.plan?.breakdown ?? {}).flatMap(([store, rs]) => rs.map((r) => ({ store, ...r })));
  return html`<main>
    <h1>Request ${d.requestId}</h1>
    <dl class="summary">
      <dt>Type</dt><dd>${d.type ?? '—'}</dd>
      <dt>Status</dt><dd><span id="status" aria-live="polite">${d.status}${d.reason ? ` — ${d.reason}` : ''}</span></dd>
      <dt>Progress</dt><dd aria-live="polite">${d.running ? d.progress ?? 'running' : 'not running'}</dd>
      <dt>Received</dt><dd>${time(d.receivedAt)}</dd>
      <dt>Due</dt><dd>${d.dueAt ? html`${day(d.dueAt)} (${d.daysLeft} days left)` : '—'}</dd>
      <dt>Verification</dt><dd>${d.verification ? `${d.verification.method}, reference ${d.verification.reference}` : '—'}</dd>
    </dl>
    ${me.role === 'support' && d.awaitingApproval && d.plan && html`<${Approval} d=${d} reload=${() => setTick(tick + 1)} />`}
    ${d.bundle && (d.type === 'access' || d.type === 'portability') && html`<${Bundle} d=${d} me=${me} />`}
    <section aria-labelledby="plan-h">
      <h2 id="plan-h">Decisions and their bases</h2>
      ${d.plan
        ? html`<p>Plan <code>${d.plan.planHash}</code></p>
            <table>
              <thead><tr><th scope="col">Store</th><th scope="col">Decision</th><th scope="col">Records</th><th scope="col">Basis</th><th scope="col">Whose</th><th scope="col">Due</th></tr></thead>
              <tbody>${rows.map((r) => html`<tr><td>${r.store}</td><td>${r.decision}</td><td>${r.count}</td><td>${r.basis}</td><td>${r.role}</td><td>${r.firstDue ? `${day(r.firstDue)}${r.lastDue && r.lastDue !== r.firstDue ? ` to ${day(r.lastDue)}` : ''}` : '—'}</td></tr>`)}</tbody>
            </table>`
        : html`<p class="muted">No plan yet.</p>`}
    </section>
    <section aria-labelledby="receipt-h">
      <h2 id="receipt-h">Receipt</h2>
      <p id="chain" class=${d.chain.ok ? 'ok' : 'bad'}>
        ${d.chain.ok ? `Receipt chain intact: ${d.chain.count} receipts, every hash and link recomputed` : `Receipt chain BROKEN: ${d.chain.problems.join('; ')}`}
        ${d.receipt && d.chain.includesReceipt ? ` (receipt #${d.receipt.sequence} is in it)` : ''}
      </p>
      ${d.receipt ? d.receipt.sections.map((s) => html`<${Section} s=${s} />`) : html`<p class="muted">No receipt yet.</p>`}
    </section>
    ${me.role === 'support' && !ANSWERED.has(d.status) && d.status !== 'unknown' && html`<${Cancel} d=${d} reload=${() => setTick(tick + 1)} />`}
    <section aria-labelledby="trail-h">
      <h2 id="trail-h">Audit trail, state by state</h2>
      <ol class="timeline">${d.timeline.map((e) => html`<li><pre>${e.lines.join('\n')}</pre></li>`)}</ol>
    </section>
  </main>`;
}

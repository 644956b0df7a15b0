/**
 * The retention report (`dsr retention report`'s): per store, what the latest enforcement run
 * found past its limit, purged and kept (and why); per subject-level limit, the erasures it
 * started and how they ended. Counts and bases only, for both roles.
 */
import { useEffect, useState } from 'preact/hooks';
import { html } from 'htm/preact';
import { api, time } from './api';

interface StoreRow {
  basis: string;
  pastLimit: number;
  purged: number;
  kept: Record<string, number>;
}

interface Report {
  runs: number;
  latestRun: { runId: string; enforcedAt: string } | null;
  stores: Record<string, StoreRow>;
  purgedAllRuns: Record<string, number>;
  subjectErasures: Record<string, { requests: number; outcomes: Record<string, number>; kept: Record<string, Record<string, number>> }>;
}

const counts = (m: Record<string, number>) => Object.entries(m).map(([k, n]) => `${n} ${k}`).join(', ') || 'none';

export function RetentionPage() {
  const [r, setR] = useState<Report | null>(null);
  const [error, setError] = useState('');
  useEffect(() => {
    void api<Report>('GET', '/api/retention/report').then((res) => (res.status === 200 ? setR(res.body) : setError(res.body.message ?? 'could not load')));
  }, []);
  const stores = Object.entries(r?.stores ?? {});
  const limits = Object.entries(r?.subjectErasures ?? {});
  return html`<main>
    <h1>Retention report</h1>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    ${!r && !error && html`<p>Loading…</p>`}
    ${r &&
    html`<p>${r.runs} enforcement runs${r.latestRun ? html`; the latest, <code>${r.latestRun.runId}</code>, at ${time(r.latestRun.enforcedAt)}` : ''}.</p>
      <section aria-labelledby="ret-stores-h">
        <h2 id="ret-stores-h">Record-level limits, by store</h2>
        ${stores.length === 0
          ? html`<p class="muted">No run has worked a store yet.</p>`
          : html`<table>
              <thead><tr><th scope="col">Store</th><th scope="col">Basis</th><th scope="col">Past the limit</th><th scope="col">Purged (latest run)</th><th scope="col">Purged (all runs)</th><th scope="col">Kept, and why</th></tr></thead>
              <tbody>${stores.map(([name, s]) => html`<tr><td>${name}</td><td>${s.basis}</td><td>${s.pastLimit}</td><td>${s.purged}</td><td>${r.purgedAllRuns[name] ?? 0}</td><td>${counts(s.kept)}</td></tr>`)}</tbody>
            </table>`}
      </section>
      <section aria-labelledby="ret-limits-h">
        <h2 id="ret-limits-h">Subject-level limits: the erasures they started</h2>
        ${limits.length === 0
          ? html`<p class="muted">No subject was past a limit.</p>`
          : html`<table>
              <thead><tr><th scope="col">Limit</th><th scope="col">Erasures</th><th scope="col">Outcomes</th><th scope="col">Kept, by store and why</th></tr></thead>
              <tbody>${limits.map(([limit, l]) => html`<tr><td>${limit}</td><td>${l.requests}</td><td>${counts(l.outcomes)}</td><td>${Object.entries(l.kept).map(([store, why]) => `${store}: ${counts(why)}`).join('; ') || 'none'}</td></tr>`)}</tbody>
            </table>`}
      </section>`}
  </main>`;
}

/** The requests, newest first, with the deadline in front (days left when the ledger has a due date). */
import { useEffect, useState } from 'preact/hooks';
import { html } from 'htm/preact';
import { api, day } from './api';

interface Row {
  requestId: string;
  type: string | null;
  status: string;
  receivedAt: string | null;
  dueAt: string | null;
  daysLeft: number | null;
}

const STATUSES = ['', 'running', 'awaiting-approval', 'approved', 'completed', 'failed', 'refused', 'rejected', 'routed-to-person'];
const TYPES = ['', 'access', 'portability', 'erasure', 'restriction', 'rectification', 'withdraw-consent', 'objection'];

export function ListPage() {
  const [rows, setRows] = useState<Row[] | null>(null);
  const [error, setError] = useState('');
  const [status, setStatus] = useState('');
  const [type, setType] = useState('');
  useEffect(() => {
    let stop = false;
    const load = async () => {
      const q = new URLSearchParams();
      if (status) q.set('status', status);
      if (type) q.set('type', type);
      const res = await api<{ requests: Row[] }>('GET', `/api/requests${q.size ? `?${q}` : ''}`);
      if (stop) return;
      if (res.status === 200) setRows(res.body.requests);
      else setError(res.body.message ?? 'could not load');
    };
    void load();
    // Statuses move while requests run: refresh without a reload.
    const timer = setInterval(load, 5000);
    return () => {
      stop = true;
      clearInterval(timer);
    };
  }, [status, type]);
  return html`<main>
    <h1>Requests</h1>
    <div class="filters">
      <div><label for="f-status">Status</label><select id="f-status" value=${status} onChange=${(e: Event) => setStatus((e.target as HTMLSelectElement).value)}>${STATUSES.map((s) => html`<option value=${s}>${s || 'any'}</option>`)}</select></div>
      <div><label for="f-type">Type</label><select id="f-type" value=${type} onChange=${(e: Event) => setType((e.target as HTMLSelectElement).value)}>${TYPES.map((s) => html`<option value=${s}>${s || 'any'}</option>`)}</select></div>
    </div>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    ${rows === null
      ? html`<p>Loading…</p>`
      : rows.length === 0
        ? html`<p>No requests${status || type ? ' match' : ' yet'}.</p>`
        : html`<table>
            <caption class="muted">${rows.length} requests</caption>
            <thead><tr><th scope="col">Request</th><th scope="col">Type</th><th scope="col">Status</th><th scope="col">Received</th><th scope="col">Due</th><th scope="col">Days left</th></tr></thead>
            <tbody>${rows.map(
              (r) => html`<tr>
                <td><a href=${`#/requests/${r.requestId}`}>${r.requestId}</a></td>
                <td>${r.type ?? '—'}</td>
                <td>${r.status}</td>
                <td>${day(r.receivedAt)}</td>
                <td>${day(r.dueAt)}</td>
                <td class=${r.daysLeft !== null && r.daysLeft <= 7 ? 'due-soon' : ''}>${r.daysLeft ?? '—'}</td>
              </tr>`,
            )}</tbody>
          </table>`}
  </main>`;
}

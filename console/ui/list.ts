/**
 * The requests, most urgent first (`dsr requests`'s order: due date, then id), with the
 * deadline in front; filtered by status, type, origin and due, a page at a time (the API's
 * next token). The current page refreshes while requests move.
 */
import { useEffect, useState } from 'preact/hooks';
import { html } from 'htm/preact';
import { api, day } from './api';

interface Row {
  requestId: string;
  type: string;
  origin: string;
  status: string;
  receivedAt: string;
  dueAt: string;
  daysLeft: number;
  overdue: boolean;
  extended: boolean;
}

const STATUSES = ['', 'received', 'running', 'planned', 'awaiting-approval', 'approved', 'completed', 'failed', 'refused', 'rejected', 'routed-to-person', 'cancelled'];
const TYPES = ['', 'access', 'portability', 'erasure', 'restriction', 'rectification', 'withdraw-consent', 'objection'];
const ORIGINS = ['', 'subject', 'retention-schedule'];
/** The due filter: `overdue`, or due within N days (`within:N`). */
const DUES: ReadonlyArray<[string, string]> = [['', 'any'], ['overdue', 'overdue'], ['within:7', 'due within 7 days'], ['within:14', 'due within 14 days'], ['within:30', 'due within 30 days']];

function Select({ id, label, value, options, set }: { id: string; label: string; value: string; options: ReadonlyArray<[string, string]>; set: (v: string) => void }) {
  return html`<div><label for=${id}>${label}</label><select id=${id} value=${value} onChange=${(e: Event) => set((e.target as HTMLSelectElement).value)}>${options.map(([v, text]) => html`<option value=${v}>${text}</option>`)}</select></div>`;
}

/** Answered requests (functions/core/deadlines.ts ANSWERED): their clock has stopped. */
const ANSWERED = new Set(['completed', 'refused', 'cancelled']);

const anyOf = (values: readonly string[]): Array<[string, string]> => values.map((v) => [v, v || 'any']);

export function ListPage() {
  const [rows, setRows] = useState<Row[] | null>(null);
  const [error, setError] = useState('');
  const [filter, setFilter] = useState({ status: '', type: '', origin: '', due: '' });
  // The tokens of the pages before this one (the first page has none), and the next page's.
  const [pages, setPages] = useState<string[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const cursor = pages.at(-1);
  useEffect(() => {
    let stop = false;
    const load = async () => {
      const q = new URLSearchParams();
      for (const k of ['status', 'type', 'origin'] as const) if (filter[k]) q.set(k, filter[k]);
      if (filter.due === 'overdue') q.set('due', 'overdue');
      else if (filter.due.startsWith('within:')) {
        q.set('due', 'within');
        q.set('days', filter.due.slice(7));
      }
      if (cursor) q.set('next', cursor);
      const res = await api<{ requests: Row[]; next: string | null }>('GET', `/api/requests${q.size ? `?${q}` : ''}`);
      if (stop) return;
      if (res.status !== 200) return setError(res.body.message ?? 'could not load');
      setError('');
      setRows(res.body.requests);
      setNext(res.body.next);
    };
    void load();
    // Statuses move while requests run: refresh without a reload.
    const timer = setInterval(load, 5000);
    return () => {
      stop = true;
      clearInterval(timer);
    };
  }, [filter, cursor]);
  const set = (k: keyof typeof filter) => (v: string) => {
    setPages([]);
    setFilter({ ...filter, [k]: v });
  };
  const filtered = Object.values(filter).some(Boolean);
  return html`<main>
    <h1>Requests</h1>
    <div class="filters">
      <${Select} id="f-status" label="Status" value=${filter.status} options=${anyOf(STATUSES)} set=${set('status')} />
      <${Select} id="f-type" label="Type" value=${filter.type} options=${anyOf(TYPES)} set=${set('type')} />
      <${Select} id="f-origin" label="Origin" value=${filter.origin} options=${anyOf(ORIGINS)} set=${set('origin')} />
      <${Select} id="f-due" label="Due" value=${filter.due} options=${DUES} set=${set('due')} />
    </div>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    ${rows === null
      ? html`<p>Loading…</p>`
      : rows.length === 0
        ? html`<p>No requests${filtered ? ' match' : ' yet'}.</p>`
        : html`<table>
            <caption class="muted">${rows.length} ${rows.length === 1 ? 'request' : 'requests'}${pages.length || next ? ` on page ${pages.length + 1}` : ''}, most urgent first</caption>
            <thead><tr><th scope="col">Request</th><th scope="col">Type</th><th scope="col">Origin</th><th scope="col">Status</th><th scope="col">Received</th><th scope="col">Due</th><th scope="col">Days left</th></tr></thead>
            <tbody>${rows.map(
              (r) => html`<tr>
                <td><a href=${`#/requests/${r.requestId}`}>${r.requestId}</a></td>
                <td>${r.type}</td>
                <td>${r.origin}</td>
                <td>${r.status}</td>
                <td>${day(r.receivedAt)}</td>
                <td>${day(r.dueAt)}${r.extended ? ' (extended)' : ''}</td>
                <td class=${r.overdue || (r.daysLeft <= 7 && !ANSWERED.has(r.status)) ? 'due-soon' : ''}>${r.daysLeft}${r.overdue ? ' (overdue)' : ''}</td>
              </tr>`,
            )}</tbody>
          </table>`}
    <div>
      ${pages.length > 0 && html`<button class="secondary" type="button" onClick=${() => setPages(pages.slice(0, -1))}>Previous page</button>`}
      ${next && html`<button class="secondary" type="button" onClick=${() => setPages([...pages, next])}>Next page</button>`}
    </div>
  </main>`;
}

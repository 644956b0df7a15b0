/** Legal holds (support) and the retention sweep's runs (both roles; support may start one). */
import { useEffect, useState } from 'preact/hooks';
import { html } from 'htm/preact';
import { api, day, time, type FieldIssue, type Me } from './api';
import { Field, formValues } from './form';

interface Hold {
  holdId: string;
  scope: string;
  store?: string;
  kind: string;
  reference: string;
  placedBy: string;
  placedAt: string;
  endsAt?: string;
  status: string;
}

const KINDS = ['court-order', 'law-enforcement', 'litigation', 'debt-recovery', 'investigation'];

export function HoldsPage() {
  const [holds, setHolds] = useState<Hold[] | null>(null);
  const [errors, setErrors] = useState<FieldIssue[]>([]);
  const [message, setMessage] = useState('');
  const [scope, setScope] = useState('store');
  const load = async () => {
    const res = await api<{ holds: Hold[] }>('GET', '/api/holds');
    if (res.status === 200) setHolds(res.body.holds);
    else setMessage(res.body.message ?? 'could not load');
  };
  useEffect(() => void load(), []);
  const place = async (e: Event) => {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const v = formValues(form);
    const res = await api('POST', '/api/holds', { ...v, scope });
    if (res.status === 201) {
      form.reset();
      setErrors([]);
      setMessage('');
      return load();
    }
    setErrors(res.body.fields ?? []);
    setMessage(res.body.message ?? 'refused');
  };
  const release = async (id: string) => {
    const res = await api('POST', `/api/holds/${id}/release`, {});
    if (res.status !== 200) setMessage(res.body.message ?? 'refused');
    await load();
  };
  return html`<main>
    <h1>Legal holds</h1>
    ${holds === null
      ? html`<p>Loading…</p>`
      : holds.length === 0
        ? html`<p>No holds.</p>`
        : html`<table>
            <thead><tr><th scope="col">Hold</th><th scope="col">Status</th><th scope="col">Kind</th><th scope="col">On</th><th scope="col">Reference</th><th scope="col">Placed</th><th scope="col">Ends</th><th scope="col"><span class="muted">Action</span></th></tr></thead>
            <tbody>${holds.map(
              (h) => html`<tr><td><code>${h.holdId}</code></td><td>${h.status}</td><td>${h.kind}</td><td>${h.scope === 'store' ? `store ${h.store}` : 'a subject'}</td><td>${h.reference}</td><td>${time(h.placedAt)} by ${h.placedBy}</td><td>${day(h.endsAt)}</td>
                <td>${h.status === 'active' && html`<button class="secondary flush" type="button" onClick=${() => release(h.holdId)} aria-label=${`Release ${h.holdId}`}>Release</button>`}</td></tr>`,
            )}</tbody>
          </table>`}
    <h2>Place a hold</h2>
    <form onSubmit=${place} noValidate>
      <fieldset>
        <legend>Hold on</legend>
        <label><input type="radio" name="scope-choice" checked=${scope === 'store'} onChange=${() => setScope('store')} class="choice" /> a whole store</label>
        <label><input type="radio" name="scope-choice" checked=${scope === 'subject'} onChange=${() => setScope('subject')} class="choice" /> one subject</label>
      </fieldset>
      ${scope === 'store'
        ? html`<${Field} id="h-store" name="store" label="Store (as in the data map)" required errors=${errors} />`
        : html`<${Field} id="h-subject" name="subjectId" label="Subject id" hint="Checked against the stores; never shown back" required errors=${errors} />`}
      <${Field} id="h-kind" name="kind" label="Kind" options=${KINDS} errors=${errors} />
      <${Field} id="h-reference" name="reference" label="Reference (court file, case)" required errors=${errors} />
      <${Field} id="h-ends" name="endsAt" label="Ends at (optional)" type="date" errors=${errors} />
      ${message && html`<p class="error" role="alert">${message}</p>`}
      <button type="submit">Place hold</button>
    </form>
  </main>`;
}

interface Sweep {
  sweepId: string;
  status: string;
  now: string | null;
  due: number;
  erased: number;
  receipts: number;
  failed: number;
  remaining: number;
  startedAt: string | null;
}

export function SweepsPage({ me }: { me: Me }) {
  const [sweeps, setSweeps] = useState<Sweep[] | null>(null);
  const [message, setMessage] = useState('');
  const load = async () => {
    const res = await api<{ sweeps: Sweep[] }>('GET', '/api/sweeps');
    if (res.status === 200) setSweeps(res.body.sweeps);
    else setMessage(res.body.message ?? 'could not load');
  };
  useEffect(() => {
    void load();
    const timer = setInterval(load, 4000);
    return () => clearInterval(timer);
  }, []);
  const run = async () => {
    const res = await api('POST', '/api/sweeps', {});
    setMessage(res.status === 202 ? '' : (res.body.message ?? 'refused'));
    await load();
  };
  return html`<main>
    <h1>Retention sweeps</h1>
    <p class="muted">Each run erases what has come due (retention over, hold released or ended), with one receipt per request.</p>
    ${me.role === 'support' && html`<button type="button" onClick=${run}>Run a sweep now</button>`}
    ${message && html`<p class="error" role="alert">${message}</p>`}
    ${sweeps === null
      ? html`<p>Loading…</p>`
      : sweeps.length === 0
        ? html`<p>No sweep has run yet.</p>`
        : html`<table>
            <thead><tr><th scope="col">Run</th><th scope="col">Started</th><th scope="col">Status</th><th scope="col">Due entries</th><th scope="col">Erased</th><th scope="col">Receipts</th><th scope="col">Failed</th><th scope="col">Left</th></tr></thead>
            <tbody>${sweeps.map((s) => html`<tr><td><code>${s.sweepId}</code></td><td>${time(s.startedAt)}</td><td>${s.status}</td><td>${s.due}</td><td>${s.erased}</td><td>${s.receipts}</td><td>${s.failed}</td><td>${s.remaining}</td></tr>`)}</tbody>
          </table>`}
  </main>`;
}

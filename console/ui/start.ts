/**
 * Start a request, with its verification. The subject id is typed here once and never shown
 * back: the form is cleared as the request starts, and the page moves to the request's trail.
 */
import { useState } from 'preact/hooks';
import { html } from 'htm/preact';
import { api, type FieldIssue, type Me } from './api';
import { Field, formValues } from './form';

const TYPES = ['access', 'portability', 'erasure', 'restriction', 'rectification', 'withdraw-consent', 'objection'];

export function StartPage({ me }: { me: Me }) {
  const [errors, setErrors] = useState<FieldIssue[]>([]);
  const [message, setMessage] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const v = formValues(form);
    const body = {
      requestId: v.requestId ?? '',
      type: v.type,
      subjectId: v.subjectId ?? '',
      // Empty: received now, in the deployment's default jurisdiction (as `dsr start` without them).
      ...(v.receivedAt ? { receivedAt: v.receivedAt } : {}),
      ...(v.jurisdiction ? { jurisdiction: v.jurisdiction } : {}),
      // withdraw-consent and objection name their purposes; the API says which it does not know.
      ...(v.purposes ? { purposes: v.purposes.split(',').map((p) => p.trim()).filter(Boolean) } : {}),
      verification: { method: v['verification.method'] ?? '', reference: v['verification.reference'] ?? '', verifiedBy: v['verification.verifiedBy'] ?? '' },
    };
    setBusy(true);
    const res = await api<{ requestId: string }>('POST', '/api/requests', body);
    setBusy(false);
    if (res.status === 202) {
      form.reset();
      location.hash = `#/requests/${res.body.requestId}`;
      return;
    }
    setErrors(res.body.fields ?? []);
    setMessage(res.body.message ?? 'refused');
    // Move to the first field at fault, so a keyboard user lands where the fix is.
    setTimeout(() => (form.querySelector('[aria-invalid="true"]') as HTMLElement | null)?.focus(), 0);
  };
  return html`<main>
    <h1>Start a request</h1>
    <form onSubmit=${submit} noValidate>
      <${Field} id="s-type" name="type" label="Type" options=${TYPES} value="erasure" errors=${errors} />
      <${Field} id="s-request" name="requestId" label="Request id" hint="Letters, digits, - and _ (the execution's name; starting it again rejoins it)" required errors=${errors} />
      <${Field} id="s-subject" name="subjectId" label="Subject id (verified)" hint="Stored in the ledger only; never shown again" required errors=${errors} />
      <${Field} id="s-purposes" name="purposes" label="Purposes (withdraw-consent, objection)" hint="Comma-separated, as the data map names them, e.g. marketing,analytics" errors=${errors} />
      <${Field} id="s-received" name="receivedAt" label="Received at (optional)" hint="If it arrived before now: ISO 8601 with its offset, e.g. 2026-11-30T09:00:00Z; the deadline counts from then" errors=${errors} />
      <${Field} id="s-jurisdiction" name="jurisdiction" label="Jurisdiction (optional)" hint="Whose law sets the response period, e.g. CA or CA-QC; empty: the deployment's" errors=${errors} />
      <fieldset>
        <legend>Verification</legend>
        <${Field} id="s-method" name="verification.method" label="Method" hint="e.g. id-document, account-login, callback" required errors=${errors} />
        <${Field} id="s-reference" name="verification.reference" label="Reference (ticket, case)" required errors=${errors} />
        <${Field} id="s-by" name="verification.verifiedBy" label="Verified by" value=${me.user} required errors=${errors} />
      </fieldset>
      ${message && html`<p class="error" role="alert">${message}</p>`}
      <button type="submit" disabled=${busy}>Start</button>
    </form>
  </main>`;
}

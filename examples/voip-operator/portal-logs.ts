/**
 * Customer-portal logs (CSV): sessions, sign-in attempts, support replies, API calls and errors,
 * one object at a time as a stream of text chunks. The scripted days hold the fixed near-miss
 * rows the tests look for.
 */
import { rngFor, WeightedPicker } from './prng';
import { deviceIpAt, type Subject } from './model';
import { isActiveAt } from './subjects';
import { externalEmail } from './outside-parties';
import { chunk, chunked, iso, lookupAll, scannerIp, SliceWriter, type LogContext, type LogObjectSpec, type ObjectTally } from './log-records';
import { typedEmail } from './written-forms';

export const APP_LOG_COLUMNS = ['timestamp', 'accountId', 'email', 'clientIp', 'action', 'message'] as const;

function csvField(v: string): string {
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

const PORTAL_ACTION = new WeightedPicker([
  ['invoice_view', 20], ['invoice_email', 8], ['contact_add', 12], ['voicemail_listen', 15], ['settings_update', 10],
  ['recording_download', 5], ['password_change', 3], ['payment_method_update', 4], ['cdr_export', 6],
] as const);

class AppWriter extends SliceWriter {
  row(t: number, accountId: string, email: string, clientIp: string, action: string, message: string, messageEmails: readonly string[] = []): void {
    const line = [iso(t), accountId, email, clientIp, action, message].map(csvField).join(',');
    const ix = this.ctx.index;
    const inv: number[] = [];
    lookupAll(inv, ix.accountId, accountId);
    lookupAll(inv, ix.email, email);
    lookupAll(inv, ix.ip, clientIp);
    for (const m of messageEmails) lookupAll(inv, ix.email, m);
    this.keep({ t, line, inv });
  }

  session(t: number, s: Subject): void {
    const { rng } = this;
    if (!isActiveAt(s, t)) return;
    const ip = rng.chance(0.6) ? deviceIpAt(s.devices[0], t) : s.mobileIp;
    // The portal logs the address as the customer typed it at sign-in, for the whole session.
    const typed = typedEmail(s.email, this.forms);
    this.row(t, s.accountId, typed, ip, 'login', rng.pick(['login ok', 'login ok (2FA via SMS)', 'login ok (remembered device)']));
    const actions = rng.int(1, 5);
    for (let k = 0; k < actions; k++) {
      t += rng.int(5, 300) * 1000;
      const month = new Date(t - 20 * 86_400_000).toISOString().slice(0, 7).replace('-', '');
      const what = PORTAL_ACTION.pick(rng);
      switch (what) {
        case 'invoice_view':
          this.row(t, s.accountId, typed, ip, what, `viewed invoice INV-${s.accountNumber}-${month}`);
          break;
        case 'invoice_email':
          this.row(t, s.accountId, typed, ip, what, `invoice INV-${s.accountNumber}-${month} emailed to ${typed}`, [typed]);
          break;
        case 'contact_add': {
          const contacts = this.ctx.contacts(s.index);
          if (contacts.length === 0) break;
          const c = rng.pick(contacts);
          if (c.contactEmail) this.row(t, s.accountId, typed, ip, what, `contact added: ${c.contactName} <${c.contactEmail}>`, [c.contactEmail]);
          else this.row(t, s.accountId, typed, ip, what, `contact added: ${c.contactName}, ${c.contactPhone}`);
          break;
        }
        case 'voicemail_listen':
          this.row(t, s.accountId, typed, ip, what, `played voicemail msg-${rng.hex(8)}`);
          break;
        case 'settings_update':
          this.row(t, s.accountId, typed, ip, what, `settings changed: {"forwardTo":"${rng.pick(s.phones)}", "ringSeconds":${rng.pick([15, 20, 25])}, "dnd":${rng.chance(0.2)}}`);
          break;
        case 'recording_download':
          this.row(t, s.accountId, typed, ip, what, `downloaded recording ${rng.uuid()}.wav`);
          break;
        case 'password_change':
          this.row(t, s.accountId, typed, ip, what, 'password changed; other sessions signed out');
          break;
        case 'payment_method_update':
          this.row(t, s.accountId, typed, ip, what, `card ending ${rng.int(1000, 9999)} set as default`);
          break;
        case 'cdr_export':
          this.row(t, s.accountId, typed, ip, what, `exported call history ${month} as CSV`);
          break;
      }
    }
    if (rng.chance(0.5)) this.row(t + rng.int(5, 120) * 1000, s.accountId, typed, ip, 'logout', 'logout');
  }

  /** Pages seen before signing in, from a customer's home address: only the address identifies them. */
  browse(t: number, s: Subject): void {
    if (!isActiveAt(s, t)) return;
    const page = this.rng.pick(['/', '/pricing', '/support/faq', '/login', '/fr/tarifs', '/status']);
    this.row(t, '', '', deviceIpAt(s.devices[0], t), 'page_view', `GET ${page} 200 ${this.rng.int(3, 90)}ms`);
  }

  /** A reset request for a customer's address, before signing in, from a mobile network. */
  passwordReset(t: number, s: Subject): void {
    this.row(t, '', typedEmail(s.email, this.forms), s.mobileIp, 'password_reset_request', `reset link sent, expires in ${this.rng.pick([30, 60])} min`);
  }

  /** A customer's integration calling the API with a token: no e-mail, a server's address. */
  api(t: number, s: Subject): void {
    if (!isActiveAt(s, t)) return;
    const month = new Date(t).toISOString().slice(0, 7);
    this.row(t, s.accountId, '', `192.0.2.${this.rng.int(100, 199)}`, 'api_call', `GET /v1/cdrs?month=${month} 200 (token ${this.rng.hex(6)}…)`);
  }

  stuffing(t: number): void {
    const { rng } = this;
    const subject = rng.chance(0.2) ? rng.pick(this.ctx.subjects) : undefined;
    if (subject && rng.chance(0.3)) return this.passwordReset(t, subject);
    const email = subject ? typedEmail(subject.email, this.forms) : externalEmail(rng);
    this.row(t, '', email, scannerIp(rng), 'login_failed', `login failed for ${email}: ${rng.pick(['invalid password', 'unknown account', 'account locked after 5 attempts'])}`, [email]);
  }

  system(t: number): void {
    const { rng } = this;
    const job = rng.pick(['billing_run', 'health_check', 'cdr_rollup', 'cache_purge'] as const);
    const message =
      job === 'billing_run'
        ? `nightly billing run completed: ${rng.int(100, 5000)} invoices, ${rng.int(0, 3)} errors`
        : job === 'health_check'
          ? `GET /healthz 200 in ${rng.int(1, 40)}ms`
          : job === 'cdr_rollup'
            ? `rolled up ${rng.int(1000, 90000)} CDRs into daily usage`
            : `purged ${rng.int(10, 900)} cache entries`;
    this.row(t, '', '', `10.20.0.${rng.int(2, 30)}`, job, message);
  }

  support(t: number, s: Subject): void {
    const { rng } = this;
    const agent = `agent.${rng.int(1, 12)}@support.voip.example`;
    const ticket = rng.int(1000, 99999);
    const written = typedEmail(s.email, this.forms);
    if (rng.chance(0.7)) this.row(t, s.accountId, agent, '10.20.1.15', 'support_reply', `ticket #${ticket} reply sent to ${written}`, [written]);
    else this.row(t, '', agent, '10.20.1.15', 'support_ticket', `ticket #${ticket} opened from inbound e-mail (${written})`, [written]);
  }

  error(t: number, s: Subject): void {
    if (!isActiveAt(s, t)) return;
    this.row(
      t,
      s.accountId,
      s.email,
      deviceIpAt(s.devices[0], t),
      'error',
      `Error: upstream timeout after 30000ms\n    at InvoiceRenderer.render (invoice.js:88:13)\n    at async Portal.download (portal.js:412:5)`,
    );
  }
}

export function* appLines(ctx: LogContext, spec: LogObjectSpec, tally: ObjectTally): Generator<string> {
  const rng = rngFor(ctx.params.seed, 'app', spec.key);
  const forms = rngFor(ctx.params.seed, 'app-forms', spec.key);
  const header = APP_LOG_COLUMNS.join(',') + '\n';
  yield chunk([header.slice(0, -1)], tally);
  const subjects = ctx.subjects;
  // Customers weighted by activity, for sessions.
  const weights = new WeightedPicker(subjects.map((s) => [s, s.activity] as const));
  for (const slice of spec.slices) {
    const w = new AppWriter(ctx, rng, forms);
    if (spec.scripted) {
      const at = (k: number) => slice.from + (k + 1) * 37 * 60_000 + rng.int(0, 59_999);
      const [s0, s1, s2] = subjects;
      const s9 = subjects[9];
      const special = subjects[subjects.length - 1];
      const month = new Date(slice.from).toISOString().slice(0, 7).replace('-', '');
      const login = (k: number, s: Subject) => {
        const t = at(k);
        w.row(t, s.accountId, s.email, deviceIpAt(s.devices[0], t), 'login', 'login ok');
      };
      const t1 = at(1);
      w.row(t1, s2.accountId, s2.email, deviceIpAt(s2.devices[0], t1), 'invoice_email', `invoice INV-${s2.accountNumber}-${month} emailed to ${s2.email}`, [s2.email]);
      w.row(at(2), '', 'agent.3@support.voip.example', '10.20.1.15', 'support_reply', `ticket #4411 reply sent to ${s2.email}`, [s2.email]);
      login(3, s1);
      login(4, s0);
      login(5, s9);
      login(6, special);
    }
    w.fill(slice, (t, roll) => {
      if (roll < 0.55) w.session(t, weights.pick(rng));
      else if (roll < 0.7) w.stuffing(t);
      else if (roll < 0.75) w.browse(t, weights.pick(rng));
      else if (roll < 0.82) w.system(t);
      else if (roll < 0.85) w.api(t, weights.pick(rng));
      else if (roll < 0.95) w.support(t, weights.pick(rng));
      else w.error(t, rng.pick(subjects));
    });
    yield* chunked(w.byTime(), tally);
  }
}

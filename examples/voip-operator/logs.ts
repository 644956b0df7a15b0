/**
 * SIP proxy logs (JSON Lines) and customer-portal logs (CSV), generated one object at a time
 * as a stream of text chunks. An object is a pure function of (seed, object key), so objects
 * can be produced in any order, and a 1 GB object never exists in memory: it is built slice by
 * slice (one minute of traffic at a time), each slice sorted by time and flushed.
 *
 * While a record is built, the generator notes which customers it mentions, by looking up the
 * canonical values it put in the fields the data map names (written in several forms: a
 * number as `+15145550101`, `5145550101` or `tel:+1-514-555-0101`, an address in the case the
 * customer typed it; see written-forms.ts). Those notes become the expected counts of
 * subjects.json.
 */
import { rngFor, WeightedPicker, type Rng } from './prng';
import { contactsOf, deviceIpAt, externalEmail, externalName, isActiveAt, HOUR, type Call, type Contact, type ModelParams, type Subject, type Device } from './model';
import { CARRIERS, PBX_DOMAIN, PROXY_HOSTS, SCANNER_AGENTS } from './reference-data';
import { sipNumberUri, typedEmail } from './written-forms';

/** Values that identify a customer, as identity resolution would find them. */
export interface IdentifierIndex {
  readonly accountId: ReadonlyMap<string, number>;
  readonly email: ReadonlyMap<string, number>;
  readonly phone: ReadonlyMap<string, number>;
  readonly sipUsername: ReadonlyMap<string, number>;
  readonly deviceId: ReadonlyMap<string, number>;
  readonly ip: ReadonlyMap<string, number>;
}

export function buildIndex(subjects: readonly Subject[]): IdentifierIndex {
  const accountId = new Map<string, number>();
  const email = new Map<string, number>();
  const phone = new Map<string, number>();
  const sipUsername = new Map<string, number>();
  const deviceId = new Map<string, number>();
  const ip = new Map<string, number>();
  const put = (m: Map<string, number>, v: string, i: number, what: string) => {
    const prior = m.get(v);
    if (prior !== undefined && prior !== i) throw new Error(`generator bug: ${what} shared by customers ${prior} and ${i}`);
    m.set(v, i);
  };
  for (const s of subjects) {
    put(accountId, s.accountId, s.index, 'accountId');
    put(email, s.email, s.index, 'email');
    for (const p of s.phones) put(phone, p, s.index, 'phone');
    put(sipUsername, s.sipUsername, s.index, 'sipUsername');
    for (const d of s.devices) {
      put(deviceId, d.deviceId, s.index, 'deviceId');
      put(ip, d.ip, s.index, 'ip');
    }
  }
  return { accountId, email, phone, sipUsername, deviceId, ip };
}

export interface LogContext {
  readonly params: ModelParams;
  readonly subjects: readonly Subject[];
  readonly index: IdentifierIndex;
  /** Calls inside the logged period, sorted by start. */
  readonly calls: readonly Call[];
  /** Devices that may register during the logged period. */
  readonly devices: ReadonlyArray<{ readonly s: Subject; readonly d: Device; readonly from: number; readonly until: number }>;
  readonly contacts: (i: number) => readonly Contact[];
}

export interface Slice {
  readonly from: number;
  readonly to: number;
  /** Uncompressed bytes to aim for. */
  readonly bytes: number;
}

export interface LogObjectSpec {
  readonly store: 'sip-logs' | 'app-logs';
  readonly key: string;
  readonly format: 'jsonl' | 'csv';
  readonly compression: 'gzip' | 'none';
  readonly slices: readonly Slice[];
  /** Holds a few truncated JSON lines. */
  readonly malformed?: boolean;
  /** Holds the fixed near-miss rows of the portal log. */
  readonly scripted?: boolean;
}

/** What one log object turned out to contain. */
export interface ObjectTally {
  records: number;
  bytes: number;
  /** Customer index → records mentioning them. */
  readonly perSubject: Map<number, number>;
  /** 1-based line numbers of truncated records, and the customers whose values they still show. */
  readonly malformedLines: number[];
  readonly malformedMentions: Set<number>;
}

export function newTally(): ObjectTally {
  return { records: 0, bytes: 0, perSubject: new Map(), malformedLines: [], malformedMentions: new Set() };
}

interface Entry {
  readonly t: number;
  readonly line: string;
  readonly inv: readonly number[];
  /** Customers named by the phone numbers in From/To (for the truncated-line scenario). */
  readonly phoneInv?: readonly number[];
}

const CHUNK_LINES = 2000;

/** Joins lines into one chunk of text and counts its UTF-8 bytes. */
function chunk(lines: readonly string[], tally: ObjectTally): string {
  const text = lines.join('\n') + '\n';
  tally.bytes += Buffer.byteLength(text);
  return text;
}

function lookupAll(out: number[], map: ReadonlyMap<string, number>, value: string | null | undefined): void {
  if (!value) return;
  // Addresses are kept in lower case by the model; a log may write them in any case.
  const i = map.get(value) ?? map.get(value.toLowerCase());
  if (i !== undefined && !out.includes(i)) out.push(i);
}

const iso = (t: number) => new Date(t).toISOString();

function needsEscape(v: string): boolean {
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c) return true;
  }
  return false;
}
/** A JSON string literal (or null), as JSON.stringify writes it. */
function js(v: string | null): string {
  if (v === null) return 'null';
  return needsEscape(v) ? JSON.stringify(v) : `"${v}"`;
}

// ───────────────────────────── SIP ─────────────────────────────

const PROXY_IP = '198.51.100.10';
const SCANNER_METHOD = new WeightedPicker([['OPTIONS', 40], ['REGISTER', 40], ['INVITE', 20]] as const);
const PORTAL_ACTION = new WeightedPicker([
  ['invoice_view', 20], ['invoice_email', 8], ['contact_add', 12], ['voicemail_listen', 15], ['settings_update', 10],
  ['recording_download', 5], ['password_change', 3], ['payment_method_update', 4], ['cdr_export', 6],
] as const);
const VOICEMAIL_SERVER = { ip: '10.10.0.20', ua: 'Asterisk PBX 20.5.2' };
const SCANNER_USERS = ['100', '101', '1000', '1001', 'admin', 'test', '2000', '9999', 'sip', 'user'];

interface Party {
  readonly sipUser: string | null;
  readonly ip: string;
  readonly port: number;
  readonly ua: { readonly name: string; readonly deviceId?: string };
  readonly transport: 'UDP' | 'TCP' | 'TLS';
}

function deviceParty(s: Subject, d: Device, rng: Rng, t: number): Party {
  return {
    sipUser: s.sipUsername,
    ip: deviceIpAt(d, t),
    port: d.model.kind === 'softphone' ? rng.int(20000, 60000) : 5060,
    ua: { name: d.userAgent, deviceId: d.deviceId },
    transport: d.model.kind === 'softphone' ? 'TLS' : 'UDP',
  };
}

function carrierParty(route: string, rng: Rng): Party {
  const options = CARRIERS.filter((c) => c.name === route);
  const c = options.length > 0 ? rng.pick(options) : rng.pick(CARRIERS);
  return { sipUser: null, ip: c.ip, port: 5060, ua: { name: c.userAgent }, transport: 'UDP' };
}

function scannerIp(rng: Rng): string {
  return `198.${18 + rng.int(0, 1)}.${rng.int(0, 255)}.${rng.int(1, 254)}`;
}

class SipWriter {
  readonly entries: Entry[] = [];
  bytes = 0;
  constructor(
    private readonly ctx: LogContext,
    readonly rng: Rng,
    private readonly host: string,
    /** How numbers are written: a stream of its own, so the dataset's other draws stay put. */
    private readonly forms: Rng,
  ) {}

  add(
    t: number,
    callId: string,
    kind: 'request' | 'response',
    method: string,
    status: number | null,
    from: { uri: string; phone?: string },
    to: { uri: string; phone?: string },
    party: Party,
    expires?: number,
  ): void {
    // Same bytes as JSON.stringify of the record (a test checks it), written out by hand:
    // this line is built a few million times for the large scale.
    const ua = party.ua;
    const line =
      `{"ts":"${iso(t)}","host":${js(this.host)},"callId":${js(callId)},"kind":"${kind}","method":${js(method)},"status":${status},` +
      `"from":${js(from.uri)},"to":${js(to.uri)},"sipUser":${js(party.sipUser)},"sourceIp":${js(party.ip)},"sourcePort":${party.port},` +
      `"transport":"${party.transport}","userAgent":{"name":${js(ua.name)}${ua.deviceId === undefined ? '' : `,"deviceId":${js(ua.deviceId)}`}}` +
      `${expires === undefined ? '' : `,"expires":${expires}`}}`;
    const ix = this.ctx.index;
    const phoneInv: number[] = [];
    lookupAll(phoneInv, ix.phone, from.phone);
    lookupAll(phoneInv, ix.phone, to.phone);
    const inv = phoneInv.slice();
    lookupAll(inv, ix.sipUsername, party.sipUser);
    lookupAll(inv, ix.ip, party.ip);
    lookupAll(inv, ix.deviceId, party.ua.deviceId);
    this.entries.push({ t, line, inv, phoneInv: kind === 'request' && method === 'INVITE' && phoneInv.length > 0 ? phoneInv : undefined });
    this.bytes += line.length + 1;
  }

  uri(number: string, displayName?: string): { uri: string; phone: string } {
    const bare = sipNumberUri(number, PBX_DOMAIN, this.forms);
    return { uri: displayName ? `"${displayName}" <${bare}>;tag=${this.rng.hex(8)}` : bare, phone: number };
  }

  dialog(c: Call): void {
    const { rng, ctx } = this;
    const s = ctx.subjects[c.subject];
    const dev = s.devices[Math.min(c.device, s.devices.length - 1)];
    const me = deviceParty(s, dev, rng, c.start);
    let t = c.start;
    if (c.direction === 'outbound') {
      const from = this.uri(c.ownNumber, rng.chance(0.3) ? s.fullName : undefined);
      const to = this.uri(c.otherNumber);
      const o = c.other !== undefined ? ctx.subjects[c.other] : undefined;
      const far = o ? deviceParty(o, o.devices[0], rng, c.start) : carrierParty(c.route, rng);
      this.add(t - 220, c.callId, 'request', 'INVITE', 407, from, to, me);
      this.add(t - 120, c.callId, 'request', 'INVITE', null, from, to, me);
      if (c.disposition === 'FAILED') {
        this.add(t + rng.int(80, 900), c.callId, 'response', 'INVITE', c.otherNumber.length > 12 ? 484 : rng.pick([404, 503]), from, to, far);
        return;
      }
      if (c.disposition === 'BUSY') {
        this.add(t + rng.int(300, 2000), c.callId, 'response', 'INVITE', 486, from, to, far);
        return;
      }
      t += rng.int(300, 1500);
      this.add(t, c.callId, 'response', 'INVITE', 180, from, to, far);
      if (c.disposition === 'NO ANSWER') {
        t += 30_000;
        this.add(t, c.callId, 'request', 'CANCEL', 200, from, to, me);
        this.add(t + 40, c.callId, 'response', 'INVITE', 487, from, to, far);
        return;
      }
      t += rng.int(2000, 15000);
      this.add(t, c.callId, 'response', 'INVITE', 200, from, to, far);
      this.add(t + 60, c.callId, 'request', 'ACK', null, from, to, me);
      t += c.durationSeconds * 1000;
      const callerHangs = rng.chance(0.5);
      this.add(t, c.callId, 'request', 'BYE', null, from, to, callerHangs ? me : far);
      this.add(t + 50, c.callId, 'response', 'BYE', 200, from, to, callerHangs ? far : me);
      return;
    }
    // Inbound from outside: the carrier sends the INVITE, often with the caller's name.
    const carrier = carrierParty(c.route, rng);
    const from = { uri: `${rng.chance(0.4) ? `"${externalName(rng).toUpperCase()}" ` : ''}<${sipNumberUri(c.otherNumber, carrier.ip, this.forms)}>;tag=${rng.hex(10)}`, phone: c.otherNumber };
    const to = this.uri(c.ownNumber);
    this.add(t, c.callId, 'request', 'INVITE', null, from, to, carrier);
    if (c.disposition === 'BUSY') {
      this.add(t + rng.int(200, 900), c.callId, 'response', 'INVITE', 486, from, to, me);
      return;
    }
    t += rng.int(200, 900);
    this.add(t, c.callId, 'response', 'INVITE', 180, from, to, me);
    if (c.disposition === 'NO ANSWER') {
      this.add(t + 30_000, c.callId, 'request', 'CANCEL', 200, from, to, carrier);
      return;
    }
    const answerer: Party =
      c.disposition === 'VOICEMAIL' ? { sipUser: null, ip: VOICEMAIL_SERVER.ip, port: 5060, ua: { name: VOICEMAIL_SERVER.ua }, transport: 'UDP' } : me;
    t += c.disposition === 'VOICEMAIL' ? 25_000 : rng.int(2000, 12000);
    this.add(t, c.callId, 'response', 'INVITE', 200, from, to, answerer);
    this.add(t + 70, c.callId, 'request', 'ACK', null, from, to, carrier);
    t += c.durationSeconds * 1000;
    this.add(t, c.callId, 'request', 'BYE', null, from, to, carrier);
    this.add(t + 45, c.callId, 'response', 'BYE', 200, from, to, answerer);
  }

  register(t: number, s: Subject, d: Device): void {
    const aor = { uri: `sip:${s.sipUsername}@${PBX_DOMAIN}` };
    const party = deviceParty(s, d, this.rng, t);
    const callId = `${this.rng.hex(16)}@${d.model.kind === 'softphone' ? 'mobile' : 'lan'}`;
    this.add(t, callId, 'request', 'REGISTER', 401, aor, aor, { ...party, sipUser: null }, 3600);
    this.add(t + this.rng.int(20, 120), callId, 'request', 'REGISTER', 200, aor, aor, party, 3600);
  }

  keepalive(t: number, s: Subject, d: Device): void {
    const party = deviceParty(s, d, this.rng, t);
    this.add(t, `${this.rng.hex(16)}@ka`, 'request', 'OPTIONS', 200, { uri: `sip:${s.sipUsername}@${PBX_DOMAIN}` }, { uri: `sip:${PBX_DOMAIN}` }, { ...party, sipUser: null });
  }

  /**
   * A forgotten device at a customer's home still trying stale credentials: only the home
   * address ties these records to the customer.
   */
  staleDevice(t: number, s: Subject): void {
    if (!isActiveAt(s, t)) return;
    const aor = { uri: `sip:${s.sipUsername}@${PBX_DOMAIN}` };
    const party: Party = { sipUser: null, ip: deviceIpAt(s.devices[0], t), port: 5060, ua: { name: 'Grandstream HT502 1.0.8.6' }, transport: 'UDP' };
    this.add(t, `${this.rng.hex(16)}@lan`, 'request', 'REGISTER', 403, aor, aor, party, 3600);
  }

  scanner(t: number): void {
    const { rng } = this;
    const user = rng.pick(SCANNER_USERS);
    const ip = scannerIp(rng);
    const party: Party = { sipUser: null, ip, port: rng.pick([5060, 5070, 5080, rng.int(1024, 65000)]), ua: { name: rng.pick(SCANNER_AGENTS) }, transport: 'UDP' };
    const method = SCANNER_METHOD.pick(rng);
    const from = { uri: `"${user}" <sip:${user}@${PROXY_IP}>;tag=${rng.hex(8)}` };
    if (method === 'INVITE') {
      const to = { uri: `sip:${rng.pick(['011', '00', '9011'])}${rng.pick(['972', '44', '371', '882'])}${rng.int(100000000, 999999999)}@${PROXY_IP}` };
      this.add(t, rng.hex(24), 'request', 'INVITE', rng.pick([403, 404]), from, to, party);
    } else if (method === 'REGISTER') {
      this.add(t, rng.hex(24), 'request', 'REGISTER', 401, from, { uri: `sip:${user}@${PROXY_IP}` }, { ...party, sipUser: user });
    } else {
      this.add(t, rng.hex(24), 'request', 'OPTIONS', 200, from, { uri: `sip:${user}@${PROXY_IP}` }, party);
    }
  }

  /** A password-guessing attempt against a real customer's SIP username. */
  bruteForce(t: number, target: Subject): void {
    const aor = { uri: `sip:${target.sipUsername}@${PBX_DOMAIN}` };
    const party: Party = { sipUser: target.sipUsername, ip: scannerIp(this.rng), port: 5060, ua: { name: this.rng.pick(SCANNER_AGENTS) }, transport: 'UDP' };
    this.add(t, this.rng.hex(24), 'request', 'REGISTER', isActiveAt(target, t) ? 403 : 404, aor, aor, party);
  }
}

function callsBetween(calls: readonly Call[], from: number, to: number): Call[] {
  let lo = 0;
  let hi = calls.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (calls[mid].start < from) lo = mid + 1;
    else hi = mid;
  }
  const out: Call[] = [];
  for (let k = lo; k < calls.length && calls[k].start < to; k++) out.push(calls[k]);
  return out;
}

export function* sipLines(ctx: LogContext, spec: LogObjectSpec, tally: ObjectTally): Generator<string> {
  const rng = rngFor(ctx.params.seed, 'sip', spec.key);
  const forms = rngFor(ctx.params.seed, 'sip-forms', spec.key);
  let lineNo = 0;
  let sliceNo = 0;
  for (const slice of spec.slices) {
    const w = new SipWriter(ctx, rng, rng.pick(PROXY_HOSTS), forms);
    for (const c of callsBetween(ctx.calls, slice.from, slice.to)) w.dialog(c);
    const span = slice.to - slice.from;
    while (w.bytes < slice.bytes) {
      const t = slice.from + Math.floor(rng.next() * span);
      const roll = rng.next();
      if (roll < 0.57 && ctx.devices.length > 0) {
        let placed = false;
        for (let attempt = 0; attempt < 4 && !placed; attempt++) {
          const e = ctx.devices[Math.floor(rng.next() * ctx.devices.length)];
          if (t >= e.from && t < e.until) {
            if (roll < 0.42) w.register(t, e.s, e.d);
            else w.keepalive(t, e.s, e.d);
            placed = true;
          }
        }
        if (!placed) w.scanner(t);
      } else if (roll < 0.945) {
        w.scanner(t);
      } else if (roll < 0.95) {
        w.staleDevice(t, ctx.subjects[Math.floor(rng.next() * ctx.subjects.length)]);
      } else {
        w.bruteForce(t, ctx.subjects[Math.floor(rng.next() * ctx.subjects.length)]);
      }
    }
    const entries = w.entries;
    entries.sort((a, b) => a.t - b.t);
    const truncate = new Map<number, { cut: number; mentions: readonly number[] }>();
    if (spec.malformed && sliceNo === 0 && entries.length > 10) {
      const n = entries.length;
      let p1 = entries.findIndex((e, k) => k >= Math.floor(n / 2) && e.phoneInv !== undefined);
      if (p1 < 0) p1 = entries.findIndex((e) => e.phoneInv !== undefined);
      if (p1 < 0) p1 = Math.floor(n / 2);
      const e1 = entries[p1];
      const cutAt = e1.line.indexOf(',"sipUser"');
      truncate.set(p1, { cut: cutAt > 0 ? cutAt : Math.floor(e1.line.length * 0.6), mentions: cutAt > 0 ? (e1.phoneInv ?? []) : [] });
      for (const k of [Math.floor(n * 0.2), Math.floor(n * 0.8)]) if (!truncate.has(k)) truncate.set(k, { cut: 30 + rng.int(0, 18), mentions: [] });
    }
    let batch: string[] = [];
    for (let k = 0; k < entries.length; k++) {
      const e = entries[k];
      lineNo++;
      const cut = truncate.get(k);
      if (cut) {
        batch.push(e.line.slice(0, cut.cut));
        tally.malformedLines.push(lineNo);
        for (const m of cut.mentions) tally.malformedMentions.add(m);
      } else {
        batch.push(e.line);
        tally.records++;
        for (const i of e.inv) tally.perSubject.set(i, (tally.perSubject.get(i) ?? 0) + 1);
      }
      if (batch.length >= CHUNK_LINES) {
        yield chunk(batch, tally);
        batch = [];
      }
    }
    if (batch.length > 0) yield chunk(batch, tally);
    sliceNo++;
  }
}

// ───────────────────────────── Portal (CSV) ─────────────────────────────

export const APP_LOG_COLUMNS = ['timestamp', 'accountId', 'email', 'clientIp', 'action', 'message'] as const;

function csvField(v: string): string {
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

class AppWriter {
  readonly entries: Entry[] = [];
  bytes = 0;
  constructor(
    private readonly ctx: LogContext,
    readonly rng: Rng,
    /** How addresses are typed: a stream of its own, so the dataset's other draws stay put. */
    private readonly forms: Rng,
  ) {}

  row(t: number, accountId: string, email: string, clientIp: string, action: string, message: string, messageEmails: readonly string[] = []): void {
    const line = [iso(t), accountId, email, clientIp, action, message].map(csvField).join(',');
    const ix = this.ctx.index;
    const inv: number[] = [];
    lookupAll(inv, ix.accountId, accountId);
    lookupAll(inv, ix.email, email);
    lookupAll(inv, ix.ip, clientIp);
    for (const m of messageEmails) lookupAll(inv, ix.email, m);
    this.entries.push({ t, line, inv });
    this.bytes += line.length + 1;
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
    const span = slice.to - slice.from;
    while (w.bytes < slice.bytes) {
      const t = slice.from + Math.floor(rng.next() * span);
      const roll = rng.next();
      if (roll < 0.55) w.session(t, weights.pick(rng));
      else if (roll < 0.7) w.stuffing(t);
      else if (roll < 0.75) w.browse(t, weights.pick(rng));
      else if (roll < 0.82) w.system(t);
      else if (roll < 0.85) w.api(t, weights.pick(rng));
      else if (roll < 0.95) w.support(t, weights.pick(rng));
      else w.error(t, rng.pick(subjects));
    }
    const entries = w.entries;
    entries.sort((a, b) => a.t - b.t);
    let batch: string[] = [];
    for (const e of entries) {
      batch.push(e.line);
      tally.records++;
      for (const i of e.inv) tally.perSubject.set(i, (tally.perSubject.get(i) ?? 0) + 1);
      if (batch.length >= CHUNK_LINES) {
        yield chunk(batch, tally);
        batch = [];
      }
    }
    if (batch.length > 0) yield chunk(batch, tally);
  }
}

/** The log context for a period: calls inside it and devices that may register in it. */
export function logContext(params: ModelParams, subjects: readonly Subject[], index: IdentifierIndex, from: number, to: number, allCalls: (i: number) => readonly Call[]): LogContext {
  const calls: Call[] = [];
  for (const s of subjects) for (const c of allCalls(s.index)) if (c.start >= from && c.start < to) calls.push(c);
  calls.sort((a, b) => a.start - b.start || (a.callId < b.callId ? -1 : a.callId > b.callId ? 1 : 0));
  const devices: Array<{ s: Subject; d: Device; from: number; until: number }> = [];
  for (const s of subjects) {
    for (const d of s.devices) {
      const start = Math.max(d.registeredAt, s.createdAt);
      if (s.activeUntil > from && start < to) devices.push({ s, d, from: start, until: s.activeUntil });
    }
  }
  const cache = new Map<number, readonly Contact[]>();
  return {
    params,
    subjects,
    index,
    calls,
    devices,
    contacts: (i) => {
      let c = cache.get(i);
      if (!c) {
        c = contactsOf(params, subjects, i);
        cache.set(i, c);
      }
      return c;
    },
  };
}

export { HOUR };

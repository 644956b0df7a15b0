/**
 * The SIP proxy's records of one slice of traffic: call dialogs, registrations, keep-alives,
 * and the scanners and password guessers every public SIP proxy sees.
 */
import { WeightedPicker, type Rng } from './prng';
import { deviceIpAt, type Call, type Device, type Subject } from './model';
import { isActiveAt } from './subjects';
import { externalName } from './outside-parties';
import { iso, lookupAll, scannerIp, SliceWriter, type LogContext } from './log-records';
import { CARRIERS, PBX_DOMAIN, SCANNER_AGENTS } from './reference-data';
import { sipNumberUri } from './written-forms';

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

const PROXY_IP = '198.51.100.10';
const SCANNER_METHOD = new WeightedPicker([['OPTIONS', 40], ['REGISTER', 40], ['INVITE', 20]] as const);
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


export class SipWriter extends SliceWriter {
  constructor(
    ctx: LogContext,
    rng: Rng,
    private readonly host: string,
    forms: Rng,
  ) {
    super(ctx, rng, forms);
  }

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
    this.keep({ t, line, inv, phoneInv: kind === 'request' && method === 'INVITE' && phoneInv.length > 0 ? phoneInv : undefined });
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

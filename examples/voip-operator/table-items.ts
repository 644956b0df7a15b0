/**
 * The DynamoDB tables' items, table by table, with the per-subject counts subjects.json expects:
 * an item counts for its owner, and once for each other customer an identifier in it names.
 */
import { rngFor, type Rng } from './prng';
import { NEAR_MISS, type Contact, type Subject } from './model';
import { contactsOf } from './contacts';
import { callsOf } from './calls';
import type { IdentifierIndex } from './identifier-index';
import type { DatasetParams } from './dataset-params';
import { DYNAMODB_STORES, LAYOUT, type DynamoStoreName, type TableItem } from './layout';
import { counters, type Counter } from './counters';
import { accountItem, consentItems, deviceItems, paymentTokenItems } from './account-items';
import { invoiceItems } from './invoice-items';
import { calleeLeg, cdrItem } from './call-record-items';
import { recordedCalls } from './media-objects';
import { isoDate } from './formatting';
import { typedEmail, typedPhone } from './written-forms';

/** What the items turned out to hold: owner and third-party counts per subject, items per store. */
export interface TableTally {
  readonly counts: Counter;
  readonly totals: Record<string, number>;
}

/** Every item of every table, table by table; `done` gets the counts once the last item is out. */
export function* tableItems(p: DatasetParams, subjects: readonly Subject[], index: IdentifierIndex, done: (tally: TableTally) => void): Generator<TableItem> {
  const n = subjects.length;
  const counts = counters(DYNAMODB_STORES, ['owner', 'thirdParty'], n);
  const totals: Record<string, number> = Object.fromEntries(DYNAMODB_STORES.map((s) => [s, 0]));
  const emit = (store: DynamoStoreName, table: string, owner: number, item: Record<string, unknown>, mentions: Iterable<number> = []): TableItem => {
    counts[store].owner[owner]++;
    for (const m of new Set(mentions)) if (m !== owner) counts[store].thirdParty[m]++;
    totals[store]++;
    return { store, table, item };
  };
  for (const s of subjects) yield emit('accounts', LAYOUT.accounts.table, s.index, accountItem(p.seed, s));
  for (const s of subjects) for (const item of consentItems(p.seed, s)) yield emit('consents', LAYOUT.consents.table, s.index, item);
  for (const s of subjects) for (const item of deviceItems(p.seed, s)) yield emit('devices', LAYOUT.devices.table, s.index, item);
  for (const s of subjects) for (const item of paymentTokenItems(p.seed, s)) yield emit('payment-tokens', LAYOUT.paymentTokens.table, s.index, item);
  for (const s of subjects) for (const item of invoiceItems(p, s)) yield emit('invoices', LAYOUT.invoices.table, s.index, item);
  for (const s of subjects) {
    // Its own stream: how numbers and addresses are typed moves no other draw of the dataset.
    const forms = rngFor(p.seed, 'contact-forms', s.index);
    for (const c of contactsOf(p, subjects, s.index)) {
      const mentions: number[] = [];
      const byPhone = index.phone.get(c.contactPhone);
      if (byPhone !== undefined) mentions.push(byPhone);
      const byEmail = c.contactEmail ? index.email.get(c.contactEmail) : undefined;
      if (byEmail !== undefined) mentions.push(byEmail);
      yield emit('contacts', LAYOUT.contacts.table, s.index, contactItem(c, forms), mentions);
    }
  }
  for (const s of subjects) {
    const calls = callsOf(p, subjects, s.index);
    const recorded = new Set(recordedCalls(s, calls, p.profile.maxRecordings).map((c) => c.callId));
    for (const c of calls) {
      const own = cdrItem(subjects, c, recorded.has(c.callId));
      yield emit('call-records', LAYOUT.callRecords.table, s.index, own, partyMentions(index, own));
      if (c.other !== undefined) {
        const leg = calleeLeg(subjects, c);
        yield emit('call-records', LAYOUT.callRecords.table, c.other, leg, partyMentions(index, leg));
      }
    }
  }
  done({ counts, totals });
}

/**
 * A contact card as the portal stores it: the number and address as the customer typed them
 * (the model keeps their canonical forms), and the lower-cased copy of the address the portal
 * writes for look-ups (`contactEmailNormalized`, keyed by the by-contact-email-normalized
 * index). The near-miss cards keep their exact text.
 */
function contactItem(c: Contact, forms: Rng): Record<string, unknown> {
  const nearMiss = c.contactPhone === NEAR_MISS.phone || c.contactPhone === NEAR_MISS.phoneLonger;
  const email = c.contactEmail;
  const exactEmail = email === NEAR_MISS.email || email === NEAR_MISS.emailLonger;
  return {
    ...c,
    contactPhone: nearMiss ? c.contactPhone : typedPhone(c.contactPhone, forms),
    ...(email ? { contactEmail: exactEmail ? email : typedEmail(email, forms), contactEmailNormalized: email.toLowerCase() } : {}),
    createdAt: isoDate(c.createdAt),
  };
}

/** The customers a call record names by number, as caller or callee (the owner is dropped by `emit`). */
function partyMentions(index: IdentifierIndex, item: Record<string, unknown>): number[] {
  const out: number[] = [];
  for (const n of [item.callerNumber, item.calleeNumber]) {
    const m = index.phone.get(n as string);
    if (m !== undefined && !out.includes(m)) out.push(m);
  }
  return out;
}

/** The billing table: one invoice per month of service, with the province's taxes. */
import { rngFor } from './prng';
import { DAY, type ModelParams, type Subject } from './model';
import { isoDate, round2 } from './formatting';
import { TAXES } from './reference-data';

export function* invoiceItems(p: ModelParams, s: Subject): Generator<Record<string, unknown>> {
  const rng = rngFor(p.seed, 'invoices', s.index);
  const first = new Date(s.createdAt);
  let y = first.getUTCFullYear();
  let m = first.getUTCMonth() + 1; // the month after creation (0-based + 1)
  const taxes = TAXES[s.city.province as keyof typeof TAXES];
  for (;;) {
    if (m > 11) {
      m = 0;
      y++;
    }
    const date = Date.UTC(y, m, 1);
    if (date >= s.activeUntil + 31 * DAY || date > p.asOf) break;
    const periodStart = Date.UTC(y, m - 1, 1);
    const longDistance = round2(rng.chance(0.4) ? rng.next() * 12 : 0);
    const fraud = s.fraudInvestigation && s.deactivatedAt !== undefined && date > s.deactivatedAt - 62 * DAY;
    const lines: Array<{ description: string; amount: number }> = [{ description: s.plan.name, amount: s.plan.monthly }];
    if (longDistance > 0) lines.push({ description: 'Long distance', amount: longDistance });
    if (fraud) lines.push({ description: 'International calls', amount: round2(400 + rng.next() * 2600) });
    if (s.plan.code === 'BIZ-3') lines.push({ description: '911 service fee', amount: 0.75 * 3 });
    const subtotal = round2(lines.reduce((a, l) => a + l.amount, 0));
    const taxLines = taxes.map((t) => ({ name: t.name, rate: t.rate, amount: round2(subtotal * t.rate) }));
    const total = round2(subtotal + taxLines.reduce((a, t) => a + t.amount, 0));
    const recent = date > p.asOf - 40 * DAY;
    const status = fraud ? 'in-collections' : recent && rng.chance(0.3) ? 'unpaid' : 'paid';
    yield {
      accountId: s.accountId,
      invoiceId: `INV-${s.accountNumber}-${y}${String(m + 1).padStart(2, '0')}`,
      invoiceDate: isoDate(date).slice(0, 10),
      periodStart: isoDate(periodStart).slice(0, 10),
      periodEnd: isoDate(date - DAY).slice(0, 10),
      billingName: s.businessName ?? s.fullName,
      billingAddress: { ...s.address },
      lines,
      subtotal,
      taxes: taxLines,
      total,
      currency: 'CAD',
      status,
      ...(status === 'paid' ? { paidAt: isoDate(date + rng.int(1, 20) * DAY) } : {}),
    };
    m++;
  }
}

/**
 * The account-side tables: the account itself, its consent records, devices and payment
 * tokens. Each draws from a stream of its own per customer, so no table moves another's values.
 */
import { rngFor } from './prng';
import { DAY, type Subject } from './model';
import { isoDate } from './formatting';

export function accountItem(seed: string, s: Subject): Record<string, unknown> {
  const rng = rngFor(seed, 'account', s.index);
  return {
    accountId: s.accountId,
    accountNumber: s.accountNumber,
    status: s.deactivatedAt !== undefined ? 'deactivated' : 'active',
    firstName: s.firstName,
    lastName: s.lastName,
    fullName: s.fullName,
    ...(s.businessName ? { businessName: s.businessName } : {}),
    email: s.email,
    phoneNumbers: [...s.phones],
    sipUsername: s.sipUsername,
    language: s.language,
    address: { ...s.address },
    plan: s.plan.code,
    planName: s.plan.name,
    recordingEnabled: s.recordingEnabled,
    marketingConsent: s.marketingConsent,
    // The portal's other opt-ins, as a map: consent.analytics, consent.targetedAdvertising.
    consent: { ...consentChoices(seed, s) },
    createdAt: isoDate(s.createdAt),
    ...(s.deactivatedAt !== undefined
      ? {
          deactivatedAt: isoDate(s.deactivatedAt),
          deactivationReason: s.fraudInvestigation ? 'suspended-fraud' : rng.pick(['customer-request', 'moved', 'non-payment', 'switched-provider']),
          // The contract ends when the service is deactivated: recordings' 6 months count from here.
          terminatedAt: isoDate(s.deactivatedAt),
        }
      : {}),
    fraudInvestigation: s.fraudInvestigation,
    ...(s.fraudInvestigation ? { fraudCaseId: `FR-${2020 + rng.int(3, 6)}-${rng.int(100, 999)}` } : {}),
  };
}

/**
 * The opt-ins besides marketing, from a stream of their own (no other draw of the dataset
 * moves): analytics and targeted advertising.
 */
function consentChoices(seed: string, s: Subject): { analytics: boolean; targetedAdvertising: boolean } {
  const rng = rngFor(seed, 'consent', s.index);
  return { analytics: rng.chance(0.6), targetedAdvertising: rng.chance(0.3) };
}

/**
 * The consent table: one item per account and purpose the customer was asked about, with the
 * answer, when and where. Marketing is asked at signup; targeted advertising only of those
 * who opted in to it in the portal (the account's `consent.targetedAdvertising`).
 */
export function consentItems(seed: string, s: Subject): Record<string, unknown>[] {
  const rng = rngFor(seed, 'consent-records', s.index);
  const at = (from: number) => isoDate(from + Math.floor(rng.next() * Math.max(1, s.activeUntil - from) * 0.5));
  const items: Record<string, unknown>[] = [
    { accountId: s.accountId, purpose: 'marketing', status: s.marketingConsent ? 'granted' : 'withdrawn', channel: 'signup', recordedAt: isoDate(s.createdAt) },
  ];
  if (consentChoices(seed, s).targetedAdvertising) items.push({ accountId: s.accountId, purpose: 'targeted-advertising', status: 'granted', channel: 'portal', recordedAt: at(s.createdAt) });
  return items;
}

export function deviceItems(seed: string, s: Subject): Record<string, unknown>[] {
  const rng = rngFor(seed, 'devices', s.index);
  return s.devices.map((d) => ({
    accountId: s.accountId,
    deviceId: d.deviceId,
    vendor: d.model.vendor,
    model: d.model.model,
    kind: d.model.kind,
    ...(d.mac ? { mac: d.mac } : {}),
    firmware: d.firmware,
    userAgent: d.userAgent,
    lastIp: d.ip,
    registeredAt: isoDate(d.registeredAt),
    lastSeenAt: isoDate(d.lastSeenAt),
    provisioning: d.mac ? rng.pick(['auto', 'auto', 'manual']) : 'qr-code',
  }));
}

export function paymentTokenItems(seed: string, s: Subject): Record<string, unknown>[] {
  const rng = rngFor(seed, 'tokens', s.index);
  const count = rng.weighted([[1, 0.7], [2, 0.25], [3, 0.05]] as const);
  const out: Record<string, unknown>[] = [];
  for (let k = 0; k < count; k++) {
    const createdAt = s.createdAt + Math.floor(((s.activeUntil - s.createdAt) * k) / count) + rng.int(0, 5) * DAY;
    const expYear = new Date(createdAt).getUTCFullYear() + rng.int(2, 5);
    const latest = k === count - 1;
    out.push({
      accountId: s.accountId,
      tokenId: `tok_${rng.hex(16)}`,
      processor: rng.pick(['moneris', 'moneris', 'stripe']),
      processorToken: `pm_${rng.hex(24)}`,
      brand: rng.weighted([['visa', 50], ['mastercard', 38], ['amex', 12]] as const),
      last4: String(rng.int(0, 9999)).padStart(4, '0'),
      expMonth: rng.int(1, 12),
      expYear,
      cardholderName: s.fullName.toUpperCase(),
      isDefault: latest,
      status: latest && s.deactivatedAt === undefined ? 'active' : 'inactive',
      createdAt: isoDate(createdAt),
    });
  }
  return out;
}

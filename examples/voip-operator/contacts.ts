/** Customers' address books, a pure function of (seed, customer index). */
import { rngFor } from './prng';
import { NEAR_MISS, type Contact, type ModelParams, type Subject } from './model';
import { externalEmail, externalName, externalNumber } from './outside-parties';

/** Address-book entries of one customer; some are other customers, one customer lists themself. */
export function contactsOf(p: ModelParams, subjects: readonly Subject[], i: number): Contact[] {
  const s = subjects[i];
  const rng = rngFor(p.seed, 'contacts', i);
  const count = rng.int(p.contacts[0], p.contacts[1]);
  const out: Contact[] = [];
  const add = (c: Omit<Contact, 'ownerAccountId' | 'contactId' | 'createdAt' | 'favorite' | 'label'> & { label?: string }) => {
    out.push({
      ownerAccountId: s.accountId,
      contactId: `ct-${rng.hex(10)}`,
      label: c.label ?? rng.pick(['mobile', 'home', 'work']),
      favorite: rng.chance(0.2),
      createdAt: s.createdAt + Math.floor(rng.next() * (s.activeUntil - s.createdAt)),
      contactName: c.contactName,
      contactPhone: c.contactPhone,
      ...(c.contactEmail ? { contactEmail: c.contactEmail } : {}),
    });
  };
  for (let k = 0; k < count; k++) {
    if (subjects.length > 1 && rng.chance(0.35)) {
      let j = rng.int(0, subjects.length - 2);
      if (j >= i) j++;
      const o = subjects[j];
      add({ contactName: rng.chance(0.3) ? o.firstName : o.fullName, contactPhone: rng.pick(o.phones), contactEmail: rng.chance(0.5) ? o.email : undefined });
    } else {
      add({ contactName: externalName(rng), contactPhone: externalNumber(rng), contactEmail: rng.chance(0.4) ? externalEmail(rng) : undefined });
    }
  }
  // Fixed scenarios.
  if (i === 4) add({ contactName: `${subjects[0].firstName} (cell)`, contactPhone: NEAR_MISS.phone, label: 'mobile' });
  if (i === 10) add({ contactName: 'Plombier', contactPhone: NEAR_MISS.phoneLonger, label: 'work' });
  if (i === 11) {
    add({ contactName: 'Bob', contactPhone: subjects[1].phones[0], contactEmail: NEAR_MISS.email });
    add({ contactName: 'Alice B.', contactPhone: externalNumber(rng), contactEmail: NEAR_MISS.emailLonger });
    add({ contactName: 'Moi', contactPhone: s.phones[0], contactEmail: s.email, label: 'home' });
  }
  return out;
}

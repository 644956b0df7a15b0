/** People and numbers outside the customer base: the other parties of contacts and calls. */
import type { Rng } from './prng';
import { ASCII, CITY_PICKER } from './subjects';
import { ENGLISH_FIRST, ENGLISH_LAST, FRENCH_FIRST, FRENCH_LAST, OTHER_EMAIL_DOMAINS } from './reference-data';

/** A number of someone who is not a customer: same 555 exchange, lines 2000-9999. */
export function externalNumber(rng: Rng): string {
  const city = CITY_PICKER.pick(rng);
  const roll = rng.next();
  if (roll < 0.04) return `+1800555${rng.int(2000, 9999)}`;
  if (roll < 0.1) return `+1212555${rng.int(2000, 9999)}`;
  return `+1${rng.pick(city.areaCodes)}555${rng.int(2000, 9999)}`;
}

export function externalEmail(rng: Rng): string {
  const french = rng.chance(0.5);
  const first = ASCII(rng.pick(french ? FRENCH_FIRST : ENGLISH_FIRST));
  const last = ASCII(rng.pick(french ? FRENCH_LAST : ENGLISH_LAST));
  return `${first}.${last}${rng.int(1, 99)}@${rng.pick(OTHER_EMAIL_DOMAINS)}`;
}

export function externalName(rng: Rng): string {
  const french = rng.chance(0.5);
  return `${rng.pick(french ? FRENCH_FIRST : ENGLISH_FIRST)} ${rng.pick(french ? FRENCH_LAST : ENGLISH_LAST)}`;
}

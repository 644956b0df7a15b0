/**
 * Identifiers as real systems write them in logs: one SIP proxy puts `+15145550101` in a URI,
 * a carrier sends `5145550101` or `15145550101`, a trunk sends `tel:+1-514-555-0101`, and a
 * customer types `Jean.Tremblay@Videotron.CA` at the portal's login. The model keeps one
 * canonical value per identifier (E.164, lower-case email); these functions choose how a log
 * line writes it, from their own random stream so the rest of the dataset does not move.
 */
import type { Rng } from './prng';

/** A NANP number's user part in a SIP URI, or a tel URI, as switches and carriers write it. */
export function sipNumberUri(e164: string, host: string, rng: Rng): string {
  const digits = e164.slice(1);
  if (!(digits.length === 11 && digits[0] === '1')) return `sip:${e164}@${host}`;
  const national = digits.slice(1);
  const [a, b, c] = [national.slice(0, 3), national.slice(3, 6), national.slice(6)];
  const roll = rng.next();
  if (roll < 0.4) return `sip:${e164}@${host}`;
  if (roll < 0.55) return `sip:${e164}@${host};user=phone`;
  if (roll < 0.7) return `sip:${national}@${host}`;
  if (roll < 0.85) return `sip:${digits}@${host}`;
  if (roll < 0.95) return `tel:+1-${a}-${b}-${c}`;
  return `sip:+1-${a}-${b}-${c}@${host};user=phone`;
}

/** An address in the letter case a person typed it (most type it as it is). */
export function typedEmail(email: string, rng: Rng): string {
  const roll = rng.next();
  if (roll < 0.7) return email;
  const [local, domain] = [email.slice(0, email.lastIndexOf('@')), email.slice(email.lastIndexOf('@') + 1)];
  const capitalized = local.replace(/(^|[._-])([a-z])/g, (_m, sep: string, ch: string) => sep + ch.toUpperCase());
  if (roll < 0.85) return `${capitalized}@${domain}`;
  if (roll < 0.95) return `${capitalized}@${domain.replace(/^([a-z])/, (ch) => ch.toUpperCase()).replace(/\.([a-z]+)$/, (_m, tld: string) => `.${tld.toUpperCase()}`)}`;
  return email.toUpperCase();
}

/**
 * A NANP number as a person types it into a contact list: half keep the form the portal's
 * picker wrote (E.164), the rest type it (`(514) 555-0101`, `514-555-0101`, `+1 514 555 0101`…).
 * Other numbers stay as they are.
 */
export function typedPhone(e164: string, rng: Rng): string {
  const digits = e164.slice(1);
  if (!/^\+1[2-9]\d{2}[2-9]\d{6}$/.test(e164)) return e164;
  const [a, b, c] = [digits.slice(1, 4), digits.slice(4, 7), digits.slice(7)];
  const roll = rng.next();
  if (roll < 0.5) return e164;
  const forms = [`(${a}) ${b}-${c}`, `${a}-${b}-${c}`, `${a} ${b}-${c}`, `${a}.${b}.${c}`, `+1 ${a} ${b} ${c}`, `1-${a}-${b}-${c}`, `${a}${b}${c}`];
  return forms[Math.min(forms.length - 1, Math.floor(((roll - 0.5) / 0.5) * forms.length))];
}

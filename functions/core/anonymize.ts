/**
 * Anonymization strategies per field. The HMAC key is deployment configuration (KMS/secret
 * on AWS, a file locally); it is never logged and never part of an error.
 */
import { createHmac } from 'node:crypto';
import type { Anonymization } from './datamap';
import { ConfigError } from './errors';

export interface Anonymizer {
  /** The anonymized replacement for `value`; `null` means the field is set to null. */
  apply(strategy: Anonymization, value: unknown): unknown;
}

export function createAnonymizer(hmacKey: string | Buffer): Anonymizer {
  if (hmacKey.length < 16) throw new ConfigError('the anonymization HMAC key must be at least 16 bytes');
  return {
    apply(strategy, value) {
      switch (strategy.strategy) {
        case 'null':
          return null;
        case 'redact':
          return strategy.token;
        case 'hmac':
          if (value === null || value === undefined) return value;
          // Deterministic within a deployment so anonymized records still join across stores.
          return `hmac:${createHmac('sha256', hmacKey).update(String(value)).digest('hex').slice(0, 32)}`;
        case 'generalize-date':
          return generalizeDate(value, strategy.to);
      }
    },
  };
}

function generalizeDate(value: unknown, to: 'month' | 'year'): unknown {
  if (typeof value !== 'string' && typeof value !== 'number') return null;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return null;
  const iso = date.toISOString();
  return to === 'year' ? iso.slice(0, 4) : iso.slice(0, 7);
}

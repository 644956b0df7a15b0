/** Purposes in the data map and in requests: every problem named with its path, an unknown purpose named with the declared ones. */
import { parseDataMap } from '../../functions/core/datamap';
import { InvalidInputError } from '../../functions/core/errors';
import { checkPurposes } from '../../functions/core/purposes';
import { createRequest } from '../../functions/core/request';
import raw from '../../examples/voip-operator/datamap.json';

type Raw = { stores: Record<string, unknown>[]; purposes: Record<string, Record<string, unknown>> };
const clone = () => JSON.parse(JSON.stringify(raw)) as Raw;
const problems = (map: unknown): string => {
  try {
    parseDataMap(map);
    return '';
  } catch (e) {
    return String((e as Error).message);
  }
};

describe('purposes in the data map', () => {
  it('loads the reference purposes with their bases and places', () => {
    const map = parseDataMap(raw);
    expect(Object.keys(map.purposes).sort()).toEqual(['analytics', 'billing', 'fraud-prevention', 'marketing', 'service-delivery', 'targeted-advertising']);
    expect(map.purposes.marketing.consentAt.map((c) => `${c.store}:${c.attribute}=${String(c.withdrawn)}`)).toEqual(['accounts:marketingConsent=false', 'consents:status=withdrawn']);
    expect(map.purposes['fraud-prevention']).toMatchObject({ basis: 'fraud-prevention', consentAt: [] });
  });

  it('names each bad place and basis by its path', () => {
    const places = clone();
    places.purposes.marketing.consentAt = [{ store: 'nowhere', attribute: 'x' }, { store: 'call-recordings', attribute: 'x' }];
    const where = problems(places);
    expect(where).toMatch(/purposes\.marketing\.consentAt\[0\]\.store: no store "nowhere" in the data map/);
    expect(where).toMatch(/purposes\.marketing\.consentAt\[1\]\.store: store "call-recordings" is s3-objects: consent is recorded in dynamodb stores only/);

    // Problems of the purposes themselves (the places are checked once these are right).
    const map = clone();
    map.purposes.marketing.consentAt = [{ store: 'accounts', attribute: 'bad path!' }];
    map.purposes.analytics.consentAt = [];
    delete map.purposes.billing.citation;
    map.purposes['service-delivery'].basis = 'legitimate-interest';
    const text = problems(map);
    expect(text).toMatch(/purposes\.marketing\.consentAt\[0\]\.attribute: must be an attribute name or a dotted path/);
    expect(text).toMatch(/purposes\.analytics\.consentAt: a purpose based on consent needs at least one place/);
    expect(text).toMatch(/purposes\.billing\.citation: a purpose based on legal-obligation needs the citation/);
    expect(text).toMatch(/purposes\.service-delivery\.basis: must be one of consent, contract, legal-obligation, fraud-prevention/);
  });

  it('needs a store whose partition key is looked up by an owner identifier', () => {
    const map = clone();
    map.purposes.marketing.consentAt = [{ store: 'call-records', attribute: 'optIn' }];
    const records = map.stores.find((s) => s.name === 'call-records')! as { lookups: Array<Record<string, unknown>> };
    records.lookups = records.lookups.filter((l) => l.role === 'third-party');
    expect(problems(map)).toMatch(/purposes\.marketing\.consentAt\[0\]\.store: store "call-records" has no owner lookup on its partition key "accountId"/);
  });
});

describe('purposes in a request', () => {
  const declared = parseDataMap(raw).purposes;
  const base = { requestId: 'wc-1', subjectId: 'cust-1' };

  it('an unknown purpose is named with the declared ones; a repeated one is named too', () => {
    expect(() => checkPurposes(['marketing', 'newsletters', 'sms'], declared)).toThrow(InvalidInputError);
    expect(() => checkPurposes(['marketing', 'newsletters', 'sms'], declared)).toThrow(/unknown purposes "newsletters", "sms": the data map declares analytics, billing, fraud-prevention, marketing, service-delivery, targeted-advertising/);
    expect(() => checkPurposes(['marketing', 'marketing'], declared)).toThrow(/purpose "marketing" is named twice/);
    expect(() => checkPurposes(['constructor'], declared)).toThrow(/unknown purpose "constructor"/);
    expect(() => checkPurposes(['analytics', 'marketing'], declared)).not.toThrow();
  });

  it('withdraw-consent and objection need purposes; other types refuse them', () => {
    expect(createRequest({ ...base, type: 'withdraw-consent', purposes: ['marketing'] }, new Date()).purposes).toEqual(['marketing']);
    expect(() => createRequest({ ...base, type: 'objection' }, new Date())).toThrow(/purposes: an objection request names the purposes/);
    expect(() => createRequest({ ...base, type: 'erasure', purposes: ['marketing'] }, new Date())).toThrow(/purposes: only withdraw-consent and objection requests name purposes, not erasure/);
    expect(() => createRequest({ ...base, type: 'withdraw-consent', purposes: ['Marketing'] }, new Date())).toThrow(/purposes\[0\]: must be lowercase letters/);
  });
});

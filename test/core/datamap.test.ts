/** The data map fails at load with the path of every error, and key templates stay exact. */
import { expandTemplate, parseDataMap } from '../../functions/core/datamap';
import { voipDataMap } from '../../examples/voip-operator';
import raw from '../../examples/voip-operator/datamap.json';

const clone = () => JSON.parse(JSON.stringify(raw)) as { stores: Record<string, unknown>[] } & Record<string, unknown>;

describe('data map validation', () => {
  it('loads the reference operator', () => {
    expect(voipDataMap().stores.map((s) => s.name)).toContain('sip-logs');
  });

  it('names the path of an unknown kind, a missing key and a bad template', () => {
    const map = clone();
    map.stores[1].kind = 'mongodb';
    delete map.stores[2].table;
    const messages = (() => {
      try {
        parseDataMap(map);
        return '';
      } catch (e) {
        return String((e as Error).message);
      }
    })();
    expect(messages).toMatch(/stores\[1\]\.kind/);
    expect(messages).toMatch(/stores\[2\]\.table/);

    const bad = clone();
    bad.stores[6].keyTemplate = 'recordings/{accountId}.wav';
    expect(() => parseDataMap(bad)).toThrow(/stores\[6\]\.keyTemplate: placeholder \{accountId\} must be followed by "\/"/);
    bad.stores[6].keyTemplate = 'recordings/{shoeSize}/';
    expect(() => parseDataMap(bad)).toThrow(/unknown placeholder \{shoeSize\}/);
  });

  it('refuses duplicate store names and a map identity resolution cannot start from', () => {
    const dup = clone();
    dup.stores[1].name = dup.stores[0].name;
    expect(() => parseDataMap(dup)).toThrow(/stores\[1\]\.name: duplicate store name "accounts"/);
    const noStart = clone();
    noStart.stores = noStart.stores.filter((s) => s.name !== 'accounts');
    expect(() => parseDataMap(noStart)).toThrow(/no dynamodb store has an owner lookup by "subjectId"/);
  });

  it('expands templates literally and refuses values that would escape their segment', () => {
    expect(expandTemplate('recordings/{accountId}/', { accountId: 'cust-1+.*?[x](y|z)^$' })).toBe('recordings/cust-1+.*?[x](y|z)^$/');
    expect(() => expandTemplate('recordings/{accountId}/', { accountId: '../cust-10' })).toThrow(/cannot be used in a key template/);
    expect(() => expandTemplate('recordings/{accountId}/', {})).toThrow(/needs a value for \{accountId\}/);
  });
});

import fs from 'node:fs';
import path from 'node:path';
import { parseDataMap, type DataMap } from '../../functions/core/datamap';
import { HANDLERS } from '../../functions/handlers/registry';
import { HANDLER_ACCESS, keyPattern, S3_RECORDS_STAGING_PREFIX, storeGrants, type StoreGrant } from '../../infra/access';
import { referenceDataMap } from './synth';

const reference = parseDataMap(referenceDataMap());

function mapWith(...stores: Record<string, unknown>[]): DataMap {
  return parseDataMap({ version: 1, stores: [referenceDataMap().stores[0], ...stores] });
}

/** "action on resource" lines, for readable comparisons; `on` keeps those whose resource starts with it. */
function lines(grants: StoreGrant[], on?: string): string[] {
  return grants
    .flatMap((g) =>
      g.actions.flatMap((a) =>
        g.resources.map((r) => {
          const where = r.type === 'table' ? r.table : r.type === 'index' ? `${r.table}/index/${r.index}` : r.type === 'bucket' ? r.bucket : `${r.bucket}/${r.pattern}`;
          return { where, line: `${a} ${where}${g.prefixes ? ` if prefix ${g.prefixes.join('|')}` : ''}` };
        }),
      ),
    )
    .filter(({ where }) => !on || where === on || where.startsWith(`${on}/`))
    .map(({ line }) => line)
    .sort();
}

describe('Function: storeGrants', () => {
  it('has an access profile for every handler of the registry', () => {
    expect(HANDLERS.map((h) => h.id).filter((id) => !HANDLER_ACCESS[id])).toEqual([]);
    expect(Object.keys(HANDLER_ACCESS).filter((id) => !HANDLERS.some((h) => h.id === id))).toEqual([]);
  });

  it('turns key templates into patterns that end where the template ends', () => {
    expect(keyPattern('recordings/{accountId}/')).toBe('recordings/*/*');
    expect(keyPattern('{accountId}/voicemail/')).toBe('*/voicemail/*');
    expect(keyPattern('sip/')).toBe('sip/*');
    expect(keyPattern('')).toBe('*');
  });

  it('lets discovery describe, query the table and the mapped GSI, and fetch index hits', () => {
    expect(lines(storeGrants(reference, ['discover']), 'voip-accounts')).toEqual([
      'dynamodb:BatchGetItem voip-accounts',
      'dynamodb:DescribeTable voip-accounts',
      'dynamodb:Query voip-accounts',
      'dynamodb:Query voip-accounts/index/by-email',
    ]);
  });

  it('grants Scan only to a store that allows it and needs it', () => {
    const scanning = { name: 'notes', kind: 'dynamodb', category: 'account', table: 'voip-notes', key: { partitionKey: 'noteId' }, lookups: [{ identifier: 'accountId', attribute: 'accountId' }], allowScan: true };
    const grants = storeGrants(mapWith(scanning), ['discover']);
    expect(lines(grants, 'voip-notes')).toContain('dynamodb:Scan voip-notes');
    expect(lines(grants, 'voip-notes')).not.toContain('dynamodb:Query voip-notes');
    const notNeeded = { ...scanning, key: { partitionKey: 'accountId' } };
    expect(lines(storeGrants(mapWith(notNeeded), ['discover']), 'voip-notes')).not.toContain('dynamodb:Scan voip-notes');
  });

  it('erases by batch delete only in delete mode; anonymizing and third-party stores read before they update', () => {
    const anonymized = { name: 'profiles', kind: 'dynamodb', category: 'account', table: 'voip-profiles', key: { partitionKey: 'accountId' }, lookups: [{ identifier: 'accountId', attribute: 'accountId' }], erase: { mode: 'anonymize', fields: { name: { strategy: 'null' } } } };
    expect(lines(storeGrants(mapWith(anonymized), ['erase']), 'voip-profiles')).toEqual([
      'dynamodb:BatchGetItem voip-profiles',
      'dynamodb:DescribeTable voip-profiles',
      'dynamodb:GetItem voip-profiles',
      'dynamodb:UpdateItem voip-profiles',
    ]);
    expect(lines(storeGrants(reference, ['erase']), 'voip-payment-tokens')).toEqual(['dynamodb:BatchWriteItem voip-payment-tokens', 'dynamodb:DescribeTable voip-payment-tokens', 'dynamodb:UpdateItem voip-payment-tokens']);
    expect(lines(storeGrants(reference, ['erase']), 'voip-contacts')).toContain('dynamodb:GetItem voip-contacts');
  });

  it('restricts with UpdateItem and object tags only, and exports read-only', () => {
    const restrict = lines(storeGrants(reference, ['restrict']));
    expect(restrict.filter((l) => /BatchWrite|Delete|PutObject /.test(l))).toEqual([]);
    expect(restrict).toContain('s3:PutObjectTagging voip-media/recordings/*/*');
    const exported = lines(storeGrants(reference, ['export']));
    expect(exported.filter((l) => !/^(dynamodb:(DescribeTable|BatchGetItem)|s3:(GetObject|GetObjectVersion|ListBucket|ListBucketVersions)) /.test(l))).toEqual([]);
    expect(exported.filter((l) => l.startsWith('s3:List') && !l.includes(' if prefix '))).toEqual([]);
  });

  it('deletes media by version only, never with a bare DeleteObject, and keeps restrict-mode media', () => {
    const erase = lines(storeGrants(reference, ['erase']), 'voip-media/recordings');
    expect(erase).toContain('s3:DeleteObjectVersion voip-media/recordings/*/*');
    expect(erase.filter((l) => l.startsWith('s3:DeleteObject '))).toEqual([]);
    const kept = { name: 'faxes', kind: 's3-objects', category: 'fax', bucket: 'voip-fax', keyTemplate: 'fax/{accountId}/', erase: { mode: 'restrict' } };
    expect(lines(storeGrants(mapWith(kept), ['erase']), 'voip-fax').filter((l) => l.includes('Delete'))).toEqual([]);
  });

  it('lets log rewrites stage under the connector\'s staging prefix, and lists only the mapped prefixes', () => {
    const erase = lines(storeGrants(reference, ['erase']), 'voip-logs');
    expect(erase).toContain(`s3:PutObject voip-logs/${S3_RECORDS_STAGING_PREFIX}*`);
    expect(erase).toContain('s3:PutObject voip-logs/sip/*');
    expect(erase).toContain(`s3:ListBucketVersions voip-logs if prefix ${S3_RECORDS_STAGING_PREFIX}*|app/*|sip/*`);
    const source = fs.readFileSync(path.join(__dirname, '../../functions/connectors/s3-records-common.ts'), 'utf8');
    expect(source).toContain(`stagingPrefix: '${S3_RECORDS_STAGING_PREFIX}'`);
  });

  it('lists a whole bucket only for a log store without a prefix', () => {
    const everything = { name: 'all-logs', kind: 's3-records', category: 'logs', bucket: 'voip-all-logs', format: 'jsonl', fields: [{ path: 'accountId', identifier: 'accountId' }] };
    expect(lines(storeGrants(mapWith(everything), ['discover']), 'voip-all-logs')).toContain('s3:ListBucket voip-all-logs');
  });

  it('gives identity resolution the owner lookups of the stores that yield identifiers, and nothing else', () => {
    expect(lines(storeGrants(reference, ['identity']))).toEqual([
      'dynamodb:BatchGetItem voip-accounts',
      'dynamodb:DescribeTable voip-accounts',
      'dynamodb:DescribeTable voip-devices',
      'dynamodb:Query voip-accounts',
      'dynamodb:Query voip-accounts/index/by-email',
      'dynamodb:Query voip-devices',
    ]);
    const thirdPartyYields = { name: 'shared', kind: 'dynamodb', category: 'contacts', table: 'voip-shared', key: { partitionKey: 'ownerAccountId' }, lookups: [{ identifier: 'accountId', attribute: 'ownerAccountId' }, { identifier: 'phone', attribute: 'phone', index: 'by-phone', role: 'third-party' }], yields: { phone: 'phone' }, thirdParty: { redact: { phone: { strategy: 'null' } } } };
    expect(lines(storeGrants(mapWith(thirdPartyYields), ['identity']), 'voip-shared')).toEqual(['dynamodb:DescribeTable voip-shared', 'dynamodb:Query voip-shared']);
  });

  it('reads hold flags only where the data map defines them', () => {
    expect(lines(storeGrants(reference, ['holds']))).toEqual(['dynamodb:GetItem voip-accounts']);
  });
});

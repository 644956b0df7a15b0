/**
 * ExportStore: the subject's records of one store (other people's values already redacted by
 * the connector) go to the work bucket as JSON; files are streamed to a staging prefix so the
 * bundle can be assembled without holding them in memory.
 */
import { Upload } from '@aws-sdk/lib-storage';
import { fannedOutExport } from '../core/log-scan';
import { docKeys, loadFindings, loadIdentity, stagingKey, storeNamed, type ExportedStore } from '../core/request-data';
import { getRuntime } from './runtime';
import { taskHandler } from './middleware';
import { StoreTaskInput } from './schemas';

export const handler = taskHandler('export-store', StoreTaskInput, async ({ requestId, store: storeName, executionName }) => {
  const rt = getRuntime();
  const store = storeNamed(rt, storeName);
  // A big log store this execution fanned out was exported unit by unit by its Distributed Map's children: join their parts.
  const fanned = executionName && store.kind === 's3-records' ? await fannedOutExport(rt, { requestId, execution: executionName, store: storeName }) : undefined;
  if (fanned) {
    await rt.workspace.putJson(docKeys.exported(requestId, storeName), { store: storeName, ...fanned } satisfies ExportedStore);
    return { store: storeName, status: 'ok', counts: { records: fanned.records.length, files: 0, missing: fanned.missing.length } };
  }
  const identity = await loadIdentity(rt, requestId);
  const findings = await loadFindings(rt, requestId, storeName);
  const exported: { records: ExportedStore['records'][number][]; files: ExportedStore['files'][number][]; missing: ExportedStore['missing'][number][] } = {
    records: [],
    files: [],
    missing: [],
  };
  for await (const item of rt.connectors(store).export(store, identity, findings, rt.connectorContext())) {
    if (item.type === 'record') exported.records.push({ findingId: item.findingId, role: item.role, record: item.record });
    else if (item.type === 'missing') exported.missing.push({ findingId: item.findingId, reason: item.reason });
    else {
      const key = stagingKey(requestId, storeName, item.name);
      try {
        await new Upload({ client: rt.s3, params: { Bucket: rt.workspace.bucket, Key: key, Body: await item.open(), ContentType: item.contentType } }).done();
        exported.files.push({ findingId: item.findingId, name: item.name, size: item.size, contentType: item.contentType, stagingKey: key });
      } catch (err) {
        if ((err as { name?: string }).name !== 'NoSuchVersion' && (err as { name?: string }).name !== 'NoSuchKey') throw err;
        exported.missing.push({ findingId: item.findingId, reason: 'vanished-before-export' });
      }
    }
  }
  const doc: ExportedStore = { store: storeName, ...exported };
  await rt.workspace.putJson(docKeys.exported(requestId, storeName), doc);
  return { store: storeName, status: 'ok', counts: { records: exported.records.length, files: exported.files.length, missing: exported.missing.length } };
});

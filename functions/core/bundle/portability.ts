/**
 * The portability bundle: a BagIt bag in one ZIP, streamed to the bundle bucket as a multipart
 * upload while it is written. One store at a time: its media files are copied from the staging
 * prefix straight into the ZIP (hashed on the way), then its JSON, schema, CSV (and vCard) are
 * built from its records; the overview, the manifests and bag-info come last, when every hash
 * is known. Memory holds one store's records and a few upload parts, never a media file.
 *
 * Layout (base directory = the request id):
 *   bagit.txt  bag-info.txt  manifest-sha256.txt  tagmanifest-sha256.txt
 *   data/index.html  data/index.json  data/index.schema.json
 *   data/<store>/<store>.json  <store>.schema.json  <store>.csv  [contacts.vcf]  [files/<name>…]
 */
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { Readable } from 'node:stream';
import type { ExportedStore } from '../request-data';
import type { Store } from '../datamap';
import type { Plan } from '../plan';
import { docKeys, loadIdentity, loadPlan, storeNamed } from '../request-data';
import { ruleFor, type RetentionSchedule } from '../retention';
import type { Runtime } from '../runtime';
import { scheduleOf, type AssembledExport, type AssembleOptions } from './access';
import { BAG_INFO, BAGIT, BAGIT_TXT, bagInfoText, MANIFEST, manifestText, payloadOxum, TAG_MANIFEST, type HashedFile } from './bagit';
import { csvChunks, flatten, stableColumns } from './csv';
import { renderOverviewHtml } from './html';
import { overviewOf, storeOverview, type MissingItem, type StoreOverview } from './overview';
import { OthersRedactor } from './redact';
import { OVERVIEW_SCHEMA, Shape, storeFileSchema } from './schema';
import { contactFields, vcards } from './vcard';
import { StreamingZip } from './zip-stream';

export const BUNDLE_SOFTWARE = 'subject-rights-orchestrator';
/** 8 MiB parts, two in flight: about 24 MB of upload buffers, up to 80 GB per bundle (10,000 parts). */
export const DEFAULT_PART_SIZE = 8 * 1024 * 1024;

export interface PortabilityOptions extends AssembleOptions {
  /** Multipart part size in bytes (at least 5 MiB). */
  readonly partSize?: number;
  readonly queueSize?: number;
}

export function bundleKeyOf(requestId: string): string {
  return `bundles/${requestId}/bundle.zip`;
}

/** A file name safe as one path segment: no "/", "\", control characters, "." or "..". */
export function safeName(name: string): string {
  // eslint-disable-next-line no-control-regex
  const cleaned = name.normalize('NFC').replace(/[\u0000-\u001f\u007f/\\]/g, '_').trim();
  return cleaned === '' || cleaned === '.' || cleaned === '..' ? 'file' : cleaned;
}

function uniqueIn(taken: Set<string>, name: string): string {
  let candidate = name;
  for (let i = 2; taken.has(candidate.toLowerCase()); i++) {
    const dot = name.lastIndexOf('.');
    candidate = dot > 0 ? `${name.slice(0, dot)}-${i}${name.slice(dot)}` : `${name}-${i}`;
  }
  taken.add(candidate.toLowerCase());
  return candidate;
}

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

interface BagState {
  readonly zip: StreamingZip;
  readonly payload: HashedFile[];
  readonly tags: HashedFile[];
}

async function addPayload(bag: BagState, path: string, data: string | Buffer): Promise<void> {
  const r = await bag.zip.addBuffer(path, data);
  bag.payload.push({ path, ...r });
}

/** A payload file written from text produced piece by piece (JSON, CSV of many records). */
async function addPayloadStream(bag: BagState, path: string, pieces: Iterable<string>): Promise<void> {
  const r = await bag.zip.addStream(path, () => Readable.from(pieces));
  bag.payload.push({ path, ...r });
}

/**
 * A store's JSON file, one record per line inside "records", produced in pieces; `shape` learns
 * every record's data on the way, for the schema written next.
 */
function* storeJson(head: Record<string, unknown>, records: ReadonlyArray<{ role: string; data: Record<string, unknown> }>, files: unknown[], missing: unknown[], shape: Shape): Generator<string> {
  const indent = (value: unknown) => JSON.stringify(value, null, 2).replace(/\n/g, '\n  ');
  let piece = `${JSON.stringify(head, null, 2).slice(0, -2)},\n  "records": [`;
  for (const [i, r] of records.entries()) {
    shape.add(r.data);
    piece += `${i === 0 ? '' : ','}\n    ${JSON.stringify(r)}`;
    if (piece.length > 256 * 1024) {
      yield piece;
      piece = '';
    }
  }
  yield `${piece}${records.length > 0 ? '\n  ' : ''}],\n  "files": ${indent(files)},\n  "missing": ${indent(missing)}\n}\n`;
}

async function openStaging(rt: Runtime, key: string): Promise<Readable | undefined> {
  try {
    const out = await rt.s3.send(new GetObjectCommand({ Bucket: rt.workspace.bucket, Key: key }));
    return out.Body as Readable;
  } catch (err) {
    if ((err as { name?: string }).name === 'NoSuchKey') return undefined;
    throw err;
  }
}

/** One store's files into the bag; returns its overview. */
async function addStore(rt: Runtime, bag: BagState, args: { requestId: string; store: Store; plan: Plan; schedule: RetentionSchedule; redactor: OthersRedactor; generatedAt: string }): Promise<{ overview: StoreOverview; media: Array<{ name: string; path: string; size: number }>; records: number }> {
  const { store, redactor } = args;
  let exported = await rt.workspace.getJson<ExportedStore>(docKeys.exported(args.requestId, store.name));
  const dir = store.name;
  const taken = new Set<string>([`${dir}.json`, `${dir}.schema.json`, `${dir}.csv`, 'contacts.vcf']);

  const files: Array<{ name: string; path: string; size: number; contentType: string | null; sha256: string }> = [];
  const extraMissing: MissingItem[] = [];
  for (const f of exported?.files ?? []) {
    const body = await openStaging(rt, f.stagingKey);
    if (!body) {
      extraMissing.push({ ref: f.findingId.slice(0, 12), reason: 'staging-gone' });
      continue;
    }
    const name = uniqueIn(taken, safeName(f.name));
    const r = await bag.zip.addStream(`data/${dir}/files/${name}`, () => body, { compress: false, size: f.size });
    bag.payload.push({ path: `data/${dir}/files/${name}`, ...r });
    files.push({ name: f.name, path: `files/${name}`, size: r.size, contentType: f.contentType ?? null, sha256: r.sha256 });
  }

  const before = redactor.masked;
  const records = (exported?.records ?? []).map((r) => ({ role: r.role, data: redactor.record(store, r.role, r.record) }));
  const overview = storeOverview({
    store,
    exported,
    slice: args.plan.stores.find((s) => s.store === store.name),
    rule: ruleFor(args.schedule, store),
    extraMissing,
    filesWritten: files,
    maskedValues: redactor.masked - before,
    paths: {},
  });
  // The unredacted records are not needed any more; a suspended async function would keep them alive.
  // eslint-disable-next-line no-useless-assignment
  exported = undefined;
  const paths: Record<string, string> = { records: `${dir}/${dir}.json`, schema: `${dir}/${dir}.schema.json`, table: `${dir}/${dir}.csv` };
  const shape = new Shape();
  const head = { store: store.name, category: store.category, description: store.description ?? null, generatedAt: args.generatedAt };
  await addPayloadStream(bag, `data/${dir}/${dir}.json`, storeJson(head, records, files, overview.missing, shape));
  await addPayload(bag, `data/${dir}/${dir}.schema.json`, json(storeFileSchema({ store: store.name, file: `${dir}.json`, records: shape.schema() })));

  if (store.kind === 's3-objects' && records.length === 0) {
    await addPayloadStream(bag, `data/${dir}/${dir}.csv`, csvChunks(['name', 'path', 'size', 'contentType', 'sha256'], files));
  } else {
    const rows = function* () {
      for (const r of records) yield { _role: r.role, ...flatten(r.data) };
    };
    const keys = store.kind === 'dynamodb' ? [store.key.partitionKey, ...(store.key.sortKey ? [store.key.sortKey] : [])] : store.dateField ? [store.dateField] : [];
    const columns = records.length > 0 ? stableColumns(rows(), ['_role', ...keys]) : ['_role'];
    await addPayloadStream(bag, `data/${dir}/${dir}.csv`, csvChunks(columns, rows()));
  }

  if (store.category === 'contacts') {
    const own = records.filter((r) => r.role === 'owner').map((r) => r.data);
    await addPayload(bag, `data/${dir}/contacts.vcf`, vcards(own, contactFields(store, own)));
    paths.contacts = `${dir}/contacts.vcf`;
  }
  if (files.length > 0) paths.files = `${dir}/files/`;
  return {
    overview: { ...overview, paths },
    media: files.map((f) => ({ name: f.name, path: `${dir}/${f.path}`, size: f.size })),
    records: records.length,
  };
}

async function writeBag(rt: Runtime, zip: StreamingZip, requestId: string, planHash: string, storeNames: readonly string[], opts: AssembleOptions) {
  const plan = await loadPlan(rt, requestId, planHash);
  const identity = await loadIdentity(rt, requestId);
  const schedule = scheduleOf(rt);
  const generatedAt = rt.clock.now().toISOString();
  const bag: BagState = { zip, payload: [], tags: [] };
  const redactor = new OthersRedactor(identity);

  bag.tags.push({ path: BAGIT, ...(await zip.addBuffer(BAGIT, BAGIT_TXT)) });
  const stores: StoreOverview[] = [];
  const media = new Map<string, Array<{ name: string; path: string; size: number }>>();
  let records = 0;
  // Data-map order: the same request always gives the same layout.
  for (const name of storeNames) storeNamed(rt, name);
  const wanted = new Set(storeNames);
  for (const store of rt.config.dataMap.stores.filter((s) => wanted.has(s.name))) {
    const added = await addStore(rt, bag, { requestId, store, plan, schedule, redactor, generatedAt });
    stores.push(added.overview);
    media.set(store.name, added.media);
    records += added.records;
  }
  const overview = overviewOf({
    requestId,
    type: 'portability',
    generatedAt,
    planHash,
    operator: rt.config.dataMap.operator?.name ?? null,
    stores,
    failedStores: [...(opts.failedStores ?? [])],
  });
  await addPayload(bag, 'data/index.json', json(overview));
  await addPayload(bag, 'data/index.schema.json', json(OVERVIEW_SCHEMA));
  await addPayload(bag, 'data/index.html', renderOverviewHtml(overview, { media }));

  const manifest = manifestText(bag.payload);
  bag.tags.push({ path: MANIFEST, ...(await zip.addBuffer(MANIFEST, manifest)) });
  const summary = overview.empty
    ? `Portability bundle of request ${requestId}: no data about the subject was found in any of the ${stores.length} stores searched (empty bundle).`
    : `Portability bundle of request ${requestId}: ${overview.totals.records} records and ${overview.totals.files} files from ${overview.totals.stores} stores.`;
  const info = bagInfoText([
    ...(overview.operator ? ([['Source-Organization', overview.operator]] as const) : []),
    ['Bagging-Date', generatedAt.slice(0, 10)],
    ['Bag-Software-Agent', BUNDLE_SOFTWARE],
    ['External-Identifier', requestId],
    ['External-Description', summary],
    ['Payload-Oxum', payloadOxum(bag.payload)],
    ['DSR-Request-Id', requestId],
    ['DSR-Generated-At', generatedAt],
    ['DSR-Plan-Hash', planHash],
    ['DSR-Subject-Data', overview.empty ? 'none' : 'present'],
    ['DSR-Records', String(overview.totals.records)],
    ['DSR-Files', String(overview.totals.files)],
    ['DSR-Missing', String(overview.totals.missing)],
    ['DSR-Masked-Values', String(redactor.masked)],
  ]);
  bag.tags.push({ path: BAG_INFO, ...(await zip.addBuffer(BAG_INFO, info)) });
  await zip.addBuffer(TAG_MANIFEST, manifestText(bag.tags));
  const archive = await zip.finish();
  return { archive, files: overview.totals.files, records, missing: overview.totals.missing };
}

export async function assemblePortabilityBundle(rt: Runtime, requestId: string, planHash: string, storeNames: readonly string[], opts: PortabilityOptions = {}): Promise<AssembledExport & { missing: number }> {
  const bundleKey = bundleKeyOf(requestId);
  const zip = new StreamingZip(requestId, rt.clock.now());
  const upload = new Upload({
    client: rt.s3,
    params: {
      Bucket: rt.config.settings.bundleBucket,
      Key: bundleKey,
      Body: zip.output,
      ContentType: 'application/zip',
      ContentDisposition: `attachment; filename="${requestId}.zip"`,
    },
    partSize: opts.partSize ?? DEFAULT_PART_SIZE,
    queueSize: opts.queueSize ?? 2,
    leavePartsOnError: false,
  });
  const uploading = upload.done();
  // A failed upload stops the writer (and the reverse: a failed writer fails the upload's Body).
  uploading.catch((err: Error) => zip.abort(err));
  const writing = writeBag(rt, zip, requestId, planHash, storeNames, opts).catch((err: Error) => {
    zip.abort(err);
    throw err;
  });
  const [bag] = await Promise.all([writing, uploading]);
  rt.logger.info('bundle assembled', { requestId, bytes: bag.archive.size, files: bag.files, records: bag.records, missing: bag.missing });
  return { bundleKey, bundleHash: bag.archive.sha256, files: bag.files, records: bag.records, bytes: bag.archive.size, missing: bag.missing };
}

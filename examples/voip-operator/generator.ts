/**
 * The reference operator's dataset: a Canadian VoIP provider's customers, billing, calls,
 * contacts, devices, media and logs, shaped after the seed privacy policies, generated
 * deterministically from (scale, seed, asOf).
 *
 * Pure: no I/O, no clock, no Math.random. Same options → same bytes for every item, object body
 * and the subjects report. Everything big is produced lazily (generators and streams), so the
 * large scale (≥ 1 GB of logs, optionally one ~1 GB object) runs in bounded memory.
 *
 * Usage: `const ds = generateDataset({ scale: 'small', seed: 42 });` then consume
 * `ds.tableItems()`, `ds.mediaObjects()`, `ds.logObjects()` (each object's `body()`), and call
 * `ds.report()` for subjects.json. Counts are noted while the parts are consumed; `report()`
 * generates (and discards) whatever part was not consumed in full.
 */
import type { Subject } from './model';
import { buildSubjects } from './subjects';
import { buildIndex, type IdentifierIndex } from './identifier-index';
import { resolveParams, type DatasetParams, type GenerateOptions } from './dataset-params';
import type { LogObject, MediaObject, TableItem } from './layout';
import { tableItems, type TableTally } from './table-items';
import { mediaObjects, type MediaTally } from './media-objects';
import { DatasetLogs } from './logs';
import { subjectsReport, type SubjectsReport } from './subjects-report';

// The public API: callers import everything about the dataset from here.
export { SPECIAL_SUBJECT_ID, NEAR_MISS } from './model';
export { APP_LOG_COLUMNS } from './portal-logs';
export { DatasetError, DEFAULT_AS_OF, GENERATOR_VERSION, PROFILES, resolveParams, SCALES, scaleProfile } from './dataset-params';
export type { DatasetParams, GenerateOptions, Scale, ScaleProfile } from './dataset-params';
export { DYNAMODB_STORES, LAYOUT, LOG_STORES, MEDIA_STORES } from './layout';
export type { DynamoStoreName, LogObject, LogStoreName, MediaObject, MediaStoreName, MediaVersion, TableItem } from './layout';
export { DEFINITIONS } from './subjects-report';
export type { NearMiss, SubjectEntry, SubjectsReport } from './subjects-report';
export { startShard } from './call-record-items';

export function generateDataset(opts: GenerateOptions): ReferenceDataset {
  return new ReferenceDataset(resolveParams(opts));
}

export class ReferenceDataset {
  readonly subjects: readonly Subject[];
  readonly index: IdentifierIndex;
  private tables?: TableTally;
  private media?: MediaTally;
  private readonly logs: DatasetLogs;

  constructor(readonly params: DatasetParams) {
    this.subjects = buildSubjects(params);
    this.index = buildIndex(this.subjects);
    this.logs = new DatasetLogs(params, this.subjects, this.index);
  }

  /** Every item of every table, table by table. */
  tableItems(): Generator<TableItem> {
    return tableItems(this.params, this.subjects, this.index, (tally) => (this.tables = tally));
  }

  /** Every media object with its versions, subject by subject. */
  mediaObjects(): Generator<MediaObject> {
    return mediaObjects(this.params, this.subjects, (tally) => (this.media = tally));
  }

  /** The log objects (SIP hour by hour, then portal day by day); each body is generated on demand. */
  logObjects(): LogObject[] {
    return this.logs.objects();
  }

  /** subjects.json: identifiers, flags and expected counts per subject. */
  report(): SubjectsReport {
    if (!this.tables) for (const _ of this.tableItems());
    if (!this.media) for (const _ of this.mediaObjects());
    for (const o of this.logObjects()) if (!this.logs.tallies.has(o.key)) for (const _ of o.lines());
    return subjectsReport({
      params: this.params,
      subjects: this.subjects,
      tables: this.tables!,
      media: this.media!,
      logSpecs: this.logs.specs(),
      logTallies: this.logs.tallies,
    });
  }
}

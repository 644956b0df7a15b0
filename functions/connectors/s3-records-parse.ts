/** Parsing one framed candidate record of a log object: a JSON object, or a CSV row by its header. */
import { valuesAtPath } from '../core/matching';
import { parseCsvRecord, type CsvFields } from '../core/record-framing';

/** CSV field spans made relative to the record's first byte. */
export function shiftSpans(fields: CsvFields, offset: number): CsvFields {
  return { values: fields.values, spans: fields.spans.map(([a, b]) => [a - offset, b - offset] as [number, number]) };
}

export interface Parsed {
  readonly record: Record<string, unknown>;
  readonly get: (path: string) => readonly string[];
  readonly csv?: CsvFields;
}

export function parseRecord(buf: Buffer, s: number, ce: number, format: 'jsonl' | 'csv', header: readonly string[] | undefined, first: boolean): Parsed | null {
  if (format === 'jsonl') {
    let start = s;
    if (first && ce - s >= 3 && buf[s] === 0xef && buf[s + 1] === 0xbb && buf[s + 2] === 0xbf) start += 3;
    let value: unknown;
    try {
      value = JSON.parse(buf.toString('utf8', start, ce));
    } catch {
      return null;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return null;
    const record = value as Record<string, unknown>;
    return { record, get: (path) => valuesAtPath(record, path) };
  }
  const fields = parseCsvRecord(buf, s, ce);
  if (!fields || !header) return null;
  const record: Record<string, unknown> = {};
  header.forEach((column, i) => {
    if (i < fields.values.length) record[column] = fields.values[i];
  });
  return {
    record,
    csv: fields,
    get: (path) => {
      const i = header.indexOf(path);
      return i >= 0 && i < fields.values.length ? [fields.values[i]] : [];
    },
  };
}


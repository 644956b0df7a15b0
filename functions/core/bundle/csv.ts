/**
 * One CSV per store (RFC 4180: CRLF records, a header row, fields with a comma, a quote or a
 * line break quoted, quotes doubled). Nested objects become dotted columns; arrays are written
 * as JSON text. Columns are stable: the leading ones in the given order, then every other
 * column sorted, whatever order the records came in. Cells that a spreadsheet would run as a
 * formula are defused (see defuseFormula).
 */
import { stringify } from 'csv-stringify/sync';

export type Cell = string | number | boolean | null;

/** `{a: {b: 1}, c: [1, 2]}` → `{"a.b": 1, "c": "[1,2]"}`. */
export function flatten(record: Record<string, unknown>, prefix = '', out: Record<string, Cell> = {}): Record<string, Cell> {
  for (const [key, value] of Object.entries(record)) {
    const column = prefix === '' ? key : `${prefix}.${key}`;
    if (value === undefined) continue;
    if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') out[column] = value;
    else if (Array.isArray(value)) out[column] = JSON.stringify(value);
    else if (typeof value === 'object' && Object.keys(value as object).length > 0) flatten(value as Record<string, unknown>, column, out);
    else out[column] = JSON.stringify(value);
  }
  return out;
}

/** The leading columns that exist, then the rest in code-unit order. */
export function stableColumns(rows: Iterable<Record<string, Cell>>, leading: readonly string[] = []): string[] {
  const seen = new Set<string>();
  for (const row of rows) for (const key of Object.keys(row)) seen.add(key);
  const first = leading.filter((c) => seen.has(c));
  const rest = [...seen].filter((c) => !first.includes(c)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return [...first, ...rest];
}

function text(cell: Cell | undefined): string {
  if (cell === null || cell === undefined) return '';
  return typeof cell === 'string' ? defuseFormula(cell) : String(cell);
}

/**
 * Spreadsheets run a cell that starts with `=`, `+`, `-` or `@` (or a tab or carriage return) as
 * a formula, so a value someone else typed (a contact's name, a log message) could run in the
 * subject's spreadsheet: CSV injection. Such a cell gets a leading apostrophe, which
 * spreadsheets show as text. A plain signed number or phone number (`+15145550101`, `-12.5`)
 * cannot call anything and is left as it is. The JSON beside each CSV keeps every value exactly.
 */
export function defuseFormula(cell: string): string {
  if (/^[=@\t\r]/.test(cell) || (/^[+-]/.test(cell) && !/^[+-][0-9 ().-]*$/.test(cell))) return `'${cell}`;
  return cell;
}

const OPTIONS = { record_delimiter: 'windows', quoted_match: /[\r\n]/ } as const;

/** The CSV text of `rows` under `columns` (header included; an empty table is the header alone). */
export function toCsv(columns: readonly string[], rows: ReadonlyArray<Record<string, Cell>>): string {
  return [...csvChunks(columns, rows)].join('');
}

/** The same text in pieces of `batch` rows, so a large table never sits in memory as one string. */
export function* csvChunks(columns: readonly string[], rows: Iterable<Record<string, Cell>>, batch = 500): Generator<string> {
  if (columns.length === 0) return;
  let table: string[][] = [[...columns]];
  for (const row of rows) {
    table.push(columns.map((c) => text(row[c])));
    if (table.length >= batch) {
      yield stringify(table, OPTIONS);
      table = [];
    }
  }
  if (table.length > 0) yield stringify(table, OPTIONS);
}

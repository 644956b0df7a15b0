/**
 * Dotted paths into parsed log records: where the data map's fields are, read and rewritten
 * the same way.
 */

/**
 * The scalar values at a dotted path of a parsed JSON record, as strings (numbers in their
 * JavaScript form; other types are not identifiers). Arrays on the way are traversed, so
 * `to` holding `["sip:a", "sip:b"]` yields both. A key that itself contains dots is found too.
 */
export function valuesAtPath(record: unknown, path: string): string[] {
  const out: string[] = [];
  collect(record, path, out);
  return out;
}

function collect(node: unknown, path: string, out: string[]): void {
  if (Array.isArray(node)) {
    for (const item of node) collect(item, path, out);
    return;
  }
  if (path === '') {
    if (typeof node === 'string') out.push(node);
    else if (typeof node === 'number' && Number.isFinite(node)) out.push(String(node));
    return;
  }
  if (node === null || typeof node !== 'object') return;
  const obj = node as Record<string, unknown>;
  if (Object.prototype.hasOwnProperty.call(obj, path)) {
    collect(obj[path], '', out);
    return;
  }
  // Try every split point, longest first key first, so "a.b.c" finds {"a.b": {"c": ...}} too.
  let dot = path.indexOf('.');
  while (dot > 0) {
    const head = path.slice(0, dot);
    if (Object.prototype.hasOwnProperty.call(obj, head)) collect(obj[head], path.slice(dot + 1), out);
    dot = path.indexOf('.', dot + 1);
  }
}

/**
 * Replaces the node(s) at a dotted path, found the way `valuesAtPath` finds them (arrays on the
 * way traversed, literal dotted keys first), with `fn(node)`. Returns how many were replaced;
 * absent paths are left absent.
 */
export function mapAtPath(record: unknown, path: string, fn: (node: unknown) => unknown): number {
  if (Array.isArray(record)) return record.reduce((n: number, item) => n + mapAtPath(item, path, fn), 0);
  if (record === null || typeof record !== 'object' || path === '') return 0;
  const obj = record as Record<string, unknown>;
  if (Object.prototype.hasOwnProperty.call(obj, path)) {
    const node = obj[path];
    if (Array.isArray(node)) {
      node.forEach((item, i) => (node[i] = fn(item)));
      return node.length;
    }
    obj[path] = fn(node);
    return 1;
  }
  let n = 0;
  let dot = path.indexOf('.');
  while (dot > 0) {
    const head = path.slice(0, dot);
    if (Object.prototype.hasOwnProperty.call(obj, head)) n += mapAtPath(obj[head], path.slice(dot + 1), fn);
    dot = path.indexOf('.', dot + 1);
  }
  return n;
}

import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { errors } from './errors';

export const S3_NS = 'http://s3.amazonaws.com/doc/2006-03-01/';

/**
 * An element list rather than an object: S3 responses interleave repeated siblings (Version and
 * DeleteMarker in ListObjectVersions) and clients expect document order to be preserved.
 */
export type XmlValue = string | number | boolean | XmlNode[] | undefined | null;
export type XmlNode = [name: string, value: XmlValue];

export function escapeXml(text: string): string {
  // Control characters (CR in keys, mainly) are written as references so parsers do not normalise them.
  // eslint-disable-next-line no-control-regex
  return text.replace(/[&<>"'\u0000-\u0008\u000a-\u001f]/g, (c) => {
    switch (c) {
      case '&': return '&amp;';
      case '<': return '&lt;';
      case '>': return '&gt;';
      case '"': return '&quot;';
      case "'": return '&apos;';
      default: return `&#${c.charCodeAt(0)};`;
    }
  });
}

function render(nodes: XmlNode[], out: string[]): void {
  for (const [name, value] of nodes) {
    if (value === undefined || value === null) continue;
    if (Array.isArray(value)) {
      out.push(`<${name}>`);
      render(value, out);
      out.push(`</${name}>`);
    } else {
      out.push(`<${name}>${escapeXml(String(value))}</${name}>`);
    }
  }
}

export function buildXml(root: string, children: XmlNode[]): string {
  const out = ['<?xml version="1.0" encoding="UTF-8"?>', `<${root} xmlns="${S3_NS}">`];
  render(children, out);
  out.push(`</${root}>`);
  return out.join('');
}

/** Elements that may repeat in request bodies; always parsed as arrays so a single one is not special. */
const REPEATED = new Set(['Object', 'Part', 'Tag']);

const parser = new XMLParser({
  ignoreAttributes: true,
  removeNSPrefix: true,
  // Keys such as "007" or "true" must stay strings, and their surrounding spaces are significant.
  parseTagValue: false,
  trimValues: false,
  htmlEntities: true,
  isArray: (name) => REPEATED.has(name),
});

export type XmlObject = { [name: string]: XmlData };
export type XmlData = string | XmlObject | XmlData[];

/** Parses a request body and returns its root element; anything not well-formed is MalformedXML. */
export function parseXml(body: Buffer, root: string): XmlObject {
  const text = body.toString('utf8');
  if (text.trim() === '' || XMLValidator.validate(text) !== true) throw errors.malformedXml();
  const doc: unknown = parser.parse(text);
  if (!isObject(doc)) throw errors.malformedXml();
  const top = doc[root];
  if (top === '') return {};
  if (!isObject(top)) throw errors.malformedXml();
  return top;
}

export function isObject(value: unknown): value is XmlObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A child's text; whitespace is trimmed unless the caller needs it exact (object keys). */
export function text(obj: XmlObject, name: string, exact = false): string | undefined {
  const value = obj[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') {
    // <Key></Key> parses as '' but <Key/> with whitespace-preserving options can give an object.
    if (isObject(value) && Object.keys(value).every((k) => k === '#text')) {
      const t = value['#text'];
      return typeof t === 'string' ? (exact ? t : t.trim()) : '';
    }
    throw errors.malformedXml();
  }
  return exact ? value : value.trim();
}

export function children(obj: XmlObject, name: string): XmlObject[] {
  const value = obj[name];
  if (value === undefined) return [];
  const list = Array.isArray(value) ? value : [value];
  return list.map((item) => {
    if (item === '') return {};
    if (!isObject(item)) throw errors.malformedXml();
    return item;
  });
}

export function child(obj: XmlObject, name: string): XmlObject | undefined {
  const value = obj[name];
  if (value === undefined) return undefined;
  if (typeof value === 'string' && value.trim() === '') return {};
  if (!isObject(value)) throw errors.malformedXml();
  return value;
}

export const isoDate = (ms: number): string => new Date(ms).toISOString();
export const httpDate = (ms: number): string => new Date(ms).toUTCString();

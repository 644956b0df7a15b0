/**
 * BagIt 1.0 (RFC 8493): the tag files of a bag and the checks `dsr bundle verify` runs on them.
 * Paths in manifests are relative to the bag's base directory and use "/"; CR, LF and "%" in a
 * path are percent-encoded (§2.1.3).
 */
export const BAGIT_TXT = 'BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n';
export const MANIFEST = 'manifest-sha256.txt';
export const TAG_MANIFEST = 'tagmanifest-sha256.txt';
export const BAG_INFO = 'bag-info.txt';
export const BAGIT = 'bagit.txt';

export interface HashedFile {
  /** Relative to the bag's base directory, e.g. `data/index.html`. */
  readonly path: string;
  readonly size: number;
  readonly sha256: string;
}

export function encodeManifestPath(path: string): string {
  return path.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

export function decodeManifestPath(path: string): string {
  return path.replace(/%0A/gi, '\n').replace(/%0D/gi, '\r').replace(/%25/g, '%');
}

/** `<sha256>  <path>` per file, in path order. */
export function manifestText(files: readonly HashedFile[]): string {
  return [...files]
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    .map((f) => `${f.sha256}  ${encodeManifestPath(f.path)}\n`)
    .join('');
}

/** Payload-Oxum: `<octets>.<files>` of the payload (everything under data/). */
export function payloadOxum(files: readonly Pick<HashedFile, 'size'>[]): string {
  return `${files.reduce((n, f) => n + f.size, 0)}.${files.length}`;
}

/** bag-info.txt: `Label: value` lines; values are single-line (line breaks become spaces). */
export function bagInfoText(fields: ReadonlyArray<readonly [string, string]>): string {
  return fields.map(([label, value]) => `${label}: ${value.replace(/[\r\n]+/g, ' ')}\n`).join('');
}

export interface ManifestLine {
  readonly sha256: string;
  readonly path: string;
  readonly line: number;
}

/** Parses a manifest; malformed lines are returned as problems, not thrown. */
export function parseManifest(text: string, name: string): { entries: ManifestLine[]; problems: string[] } {
  const entries: ManifestLine[] = [];
  const problems: string[] = [];
  text.split(/\r\n|\n|\r/).forEach((raw, i) => {
    if (raw === '') return;
    const m = /^([0-9a-fA-F]{64})[ \t]+(.+)$/.exec(raw);
    if (!m) problems.push(`${name} line ${i + 1}: not "<sha256> <path>"`);
    else entries.push({ sha256: m[1].toLowerCase(), path: decodeManifestPath(m[2]), line: i + 1 });
  });
  return { entries, problems };
}

/** Parses bag-info.txt (labels may repeat; continuation lines start with whitespace). */
export function parseBagInfo(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let last: { label: string; index: number } | undefined;
  for (const raw of text.split(/\r\n|\n|\r/)) {
    if (raw === '') continue;
    if (/^[ \t]/.test(raw) && last) {
      const values = out.get(last.label)!;
      values[last.index] += ` ${raw.trim()}`;
      continue;
    }
    const colon = raw.indexOf(':');
    if (colon <= 0) continue;
    const label = raw.slice(0, colon).trim();
    const values = out.get(label) ?? [];
    values.push(raw.slice(colon + 1).trim());
    out.set(label, values);
    last = { label, index: values.length - 1 };
  }
  return out;
}

/**
 * Checks a bag's tag files against the hashes of its files. `files` maps every file in the bag
 * (relative path) to what was read; `text` reads a tag file's content.
 */
export function checkBag(files: ReadonlyMap<string, { size: number; sha256: string }>, text: (path: string) => string | undefined): string[] {
  const problems: string[] = [];
  const bagit = text(BAGIT);
  if (bagit === undefined) problems.push(`${BAGIT}: missing`);
  else {
    const info = parseBagInfo(bagit);
    if (!info.get('BagIt-Version')?.[0]) problems.push(`${BAGIT}: no BagIt-Version`);
    if (info.get('Tag-File-Character-Encoding')?.[0]?.toUpperCase() !== 'UTF-8') problems.push(`${BAGIT}: Tag-File-Character-Encoding is not UTF-8`);
  }
  const payload = [...files.entries()].filter(([p]) => p.startsWith('data/'));
  if (!files.has('data/index.html') && payload.length === 0) problems.push('data/: the payload directory is missing');

  const manifest = text(MANIFEST);
  if (manifest === undefined) problems.push(`${MANIFEST}: missing`);
  else problems.push(...checkManifest(MANIFEST, manifest, files, (p) => p.startsWith('data/')));

  const bagInfo = text(BAG_INFO);
  if (bagInfo !== undefined) {
    const oxum = parseBagInfo(bagInfo).get('Payload-Oxum')?.[0];
    const actual = payloadOxum(payload.map(([, f]) => f));
    if (oxum === undefined) problems.push(`${BAG_INFO}: no Payload-Oxum`);
    else if (oxum !== actual) problems.push(`${BAG_INFO}: Payload-Oxum is ${oxum}, the payload is ${actual} (octets.files)`);
  }

  const tagManifest = text(TAG_MANIFEST);
  if (tagManifest === undefined) problems.push(`${TAG_MANIFEST}: missing`);
  else problems.push(...checkManifest(TAG_MANIFEST, tagManifest, files, (p) => !p.startsWith('data/') && !p.startsWith('tagmanifest-')));
  return problems;
}

/** Every line names an existing file with that hash; every file `covered` must have a line. */
function checkManifest(name: string, text: string, files: ReadonlyMap<string, { sha256: string }>, covered: (path: string) => boolean): string[] {
  const { entries, problems } = parseManifest(text, name);
  const listed = new Set<string>();
  for (const e of entries) {
    listed.add(e.path);
    const file = files.get(e.path);
    if (!file) problems.push(`${e.path}: listed in ${name} (line ${e.line}) but not in the bag`);
    else if (file.sha256 !== e.sha256) problems.push(`${e.path}: SHA-256 does not match ${name} (line ${e.line}): the file was altered`);
  }
  for (const path of files.keys()) if (covered(path) && !listed.has(path)) problems.push(`${path}: not listed in ${name}`);
  return problems;
}

/**
 * index.html: the overview as a page a person can open from the unzipped folder with no
 * network. Inline CSS, no script, a Content-Security-Policy that forbids loading anything, and
 * every value escaped.
 */
import type { Overview, StoreOverview } from './overview';

export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const REASONS: Record<string, string> = {
  'version-gone': 'deleted after it was found, before it could be copied',
  'vanished-before-export': 'deleted after it was found, before it could be copied',
  'staging-gone': 'copied, but the copy was gone when the bundle was made',
  'not-found': 'deleted after it was found',
  'no-longer-matches': 'changed after it was found and no longer refers to you',
  'object-gone': 'the log file was deleted after it was found',
  'record-gone': 'the log line was removed after it was found',
  'object-unreadable': 'the log file could not be read',
};

const DECISION_WORDS: Record<string, string> = {
  erase: 'may be erased',
  anonymize: 'would be anonymized',
  'retain-until': 'kept until a date (law)',
  restrict: 'restricted',
  refused: 'held (legal hold or object lock)',
  'third-party': 'in other people\'s records',
};

const CSS = `
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;max-width:72rem;padding:0 1rem;color:#1d1d1f;background:#fff}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
.meta{color:#555}.empty{background:#fff6d6;border:1px solid #e5c100;padding:.8rem 1rem;border-radius:6px}
table{border-collapse:collapse;width:100%;margin:.5rem 0}th,td{border:1px solid #ddd;padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:#f5f5f7}td.n{text-align:right;font-variant-numeric:tabular-nums}code{font-size:.9em}
.note{color:#555;font-size:.9rem}ul.files{margin:.2rem 0;padding-left:1.1rem}
@media print{body{margin:0}}
`;

/** A relative link to a file of the bag: each segment URL-encoded ("#", "?", "%" and spaces are file-name characters here). */
function href(path: string): string {
  return escapeHtml(path.split('/').map(encodeURIComponent).join('/'));
}

function n(v: number): string {
  return v.toLocaleString('en-CA');
}

function bytes(v: number): string {
  if (v < 1024) return `${v} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let x = v / 1024;
  let i = 0;
  while (x >= 1024 && i < units.length - 1) {
    x /= 1024;
    i++;
  }
  return `${x.toFixed(1)} ${units[i]}`;
}

function dates(s: StoreOverview): string {
  if (!s.datesCovered) return '—';
  const day = (v: string) => escapeHtml(v.slice(0, 10));
  return s.datesCovered.from === s.datesCovered.to ? day(s.datesCovered.from) : `${day(s.datesCovered.from)} to ${day(s.datesCovered.to)}`;
}

function decisions(s: StoreOverview): string {
  const parts = Object.entries(s.decisions)
    .filter(([, v]) => v > 0)
    .map(([k, v]) => `${n(v)} ${escapeHtml(DECISION_WORDS[k] ?? k)}`);
  return parts.length > 0 ? parts.join('<br>') : '—';
}

function links(s: StoreOverview): string {
  if (!s.paths) return '';
  const items = Object.entries(s.paths).map(([what, path]) => `<li><a href="${href(path)}">${escapeHtml(path)}</a> <span class="note">(${escapeHtml(what)})</span></li>`);
  return `<ul class="files">${items.join('')}</ul>`;
}

export interface RenderOptions {
  /** Media files in the bundle, per store: names and sizes, listed under the store. */
  readonly media?: ReadonlyMap<string, ReadonlyArray<{ name: string; path: string; size: number }>>;
}

export function renderOverviewHtml(o: Overview, opts: RenderOptions = {}): string {
  const bundle = o.type === 'portability';
  const title = bundle ? 'Your data: portability bundle' : 'Your data: access report';
  const out: string[] = [];
  out.push('<!DOCTYPE html>', '<html lang="en">', '<head>', '<meta charset="utf-8">');
  out.push(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src 'none'">`);
  out.push('<meta name="viewport" content="width=device-width, initial-scale=1">', `<title>${escapeHtml(title)} — ${escapeHtml(o.requestId)}</title>`, `<style>${CSS}</style>`, '</head>', '<body>');
  out.push(`<h1>${escapeHtml(title)}</h1>`);
  out.push(
    `<p class="meta">${o.operator ? `${escapeHtml(o.operator)} · ` : ''}request <code>${escapeHtml(o.requestId)}</code> · generated ${escapeHtml(o.generatedAt)} · plan <code>${escapeHtml(o.planHash.slice(0, 16))}</code></p>`,
  );
  if (o.empty) {
    out.push(`<p class="empty"><strong>We found no data about you</strong> in any of the ${n(o.stores.length)} stores we searched${o.totals.missing > 0 ? ` (${n(o.totals.missing)} item(s) were found but were gone before they could be copied: see below)` : ''}. This ${bundle ? 'bundle' : 'report'} is complete and intentionally empty.</p>`);
  } else {
    out.push(`<p>We hold <strong>${n(o.totals.records)}</strong> record(s)${o.totals.files > 0 ? ` and <strong>${n(o.totals.files)}</strong> file(s) (${bytes(o.totals.bytes)})` : ''} about you in <strong>${n(o.totals.stores)}</strong> of the ${n(o.stores.length)} stores we searched.</p>`);
  }
  if (o.failedStores.length > 0) {
    out.push(`<p class="empty">These stores could not be read and are <strong>not</strong> in this ${bundle ? 'bundle' : 'report'}: ${o.failedStores.map((s) => `<code>${escapeHtml(s)}</code>`).join(', ')}. We will follow up.</p>`);
  }

  out.push('<h2>How long we keep each kind of data, and why</h2>', '<table><thead><tr><th>Category</th><th>Stores</th><th>Records</th><th>Files</th><th>Kept for</th><th>Basis</th><th>Source</th></tr></thead><tbody>');
  for (const c of o.categories) {
    out.push(
      `<tr><td>${escapeHtml(c.category)}</td><td>${c.stores.map(escapeHtml).join(', ')}</td><td class="n">${n(c.records)}</td><td class="n">${n(c.files)}</td><td>${escapeHtml(c.keep ?? 'until you ask us to erase it')}</td><td>${escapeHtml(c.basis === 'none' ? 'no legal obligation' : c.basis)}</td><td>${escapeHtml(c.source ?? '')}</td></tr>`,
    );
  }
  out.push('</tbody></table>');

  out.push(`<h2>What each store holds${bundle ? ', and where it is in this bundle' : ''}</h2>`);
  out.push(`<table><thead><tr><th>Store</th><th>What it is</th><th>Your records</th><th>Mentions of you in others' records</th><th>Files</th><th>Dates covered</th><th>Status</th>${bundle ? '<th>Files in this bundle</th>' : ''}</tr></thead><tbody>`);
  for (const s of o.stores) {
    out.push(
      `<tr><td><code>${escapeHtml(s.store)}</code><br><span class="note">${escapeHtml(s.category)}</span></td><td>${escapeHtml(s.description ?? '')}</td><td class="n">${n(s.ownRecords)}</td><td class="n">${n(s.aboutYouInOthersRecords)}</td><td class="n">${n(s.files)}${s.files > 0 ? `<br><span class="note">${bytes(s.bytes)}</span>` : ''}</td><td>${dates(s)}</td><td>${decisions(s)}</td>${bundle ? `<td>${links(s)}</td>` : ''}</tr>`,
    );
  }
  out.push('</tbody></table>');

  const missing = o.stores.flatMap((s) => s.missing.map((m) => ({ store: s.store, ...m })));
  out.push('<h2>Items found but not included</h2>');
  if (missing.length === 0) out.push('<p>None: everything we found is included.</p>');
  else {
    out.push('<table><thead><tr><th>Store</th><th>Reference</th><th>Why</th></tr></thead><tbody>');
    for (const m of missing) out.push(`<tr><td><code>${escapeHtml(m.store)}</code></td><td><code>${escapeHtml(m.ref)}</code></td><td>${escapeHtml(REASONS[m.reason] ?? m.reason)}</td></tr>`);
    out.push('</tbody></table>');
  }

  if (bundle && opts.media && [...opts.media.values()].some((l) => l.length > 0)) {
    out.push('<h2>Recordings, voicemail, faxes and other files</h2>');
    for (const [store, list] of opts.media) {
      if (list.length === 0) continue;
      out.push(`<p><code>${escapeHtml(store)}</code>: ${n(list.length)} file(s)</p><ul class="files">`);
      for (const f of list) out.push(`<li><a href="${href(f.path)}">${escapeHtml(f.name)}</a> <span class="note">${bytes(f.size)}</span></li>`);
      out.push('</ul>');
    }
  }

  out.push('<h2>About this ' + (bundle ? 'bundle' : 'report') + '</h2><ul class="note">');
  if (bundle) {
    out.push('<li>Each store has a JSON file (with a JSON Schema next to it, <code>*.schema.json</code>) and a CSV file with the same records, for spreadsheets (a cell that a spreadsheet would run as a formula starts with an apostrophe there; the JSON file has every value exactly); your address book is also in vCard format (<code>contacts.vcf</code>).</li>');
    out.push('<li>The bundle is a BagIt bag (RFC 8493): <code>manifest-sha256.txt</code> lists the SHA-256 of every file, so you or anyone you give it to can check nothing was changed.</li>');
    out.push('<li>Records with role "third-party" are other people\'s records that mention you: only what is about you is shown.</li>');
  }
  out.push('<li>Values that belong to other people (the number someone else has, the people in your address book, the other party of a call) are replaced by <code>[REDACTED … #n]</code>: the same value has the same number throughout, so you can still see that two calls went to the same person.</li>');
  out.push('<li>Dates are in UTC (ISO 8601).</li></ul>');
  out.push('</body>', '</html>', '');
  return out.join('\n');
}

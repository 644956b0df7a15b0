/**
 * The page's three files: index.html, app.css, and app.js bundled by esbuild from console/ui
 * (preact + htm, minified, one ES module). The local server serves them from memory; the CDK
 * construct uploads the same files to the UI bucket.
 */
import { build, buildSync, type BuildOptions } from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';

export const UI_DIR = path.join(__dirname, 'ui');

export interface UiAssets {
  readonly [file: string]: { readonly type: string; readonly body: Buffer };
}

const BUILD: BuildOptions & { write: false } = {
  entryPoints: [path.join(UI_DIR, 'main.ts')],
  bundle: true,
  minify: true,
  format: 'esm',
  target: 'es2022',
  write: false,
  legalComments: 'none',
  logLevel: 'silent',
};

export async function buildUiAssets(): Promise<UiAssets> {
  return assetsOf((await build(BUILD)).outputFiles[0].contents);
}

function assetsOf(js: Uint8Array): UiAssets {
  return {
    'index.html': { type: 'text/html; charset=utf-8', body: fs.readFileSync(path.join(UI_DIR, 'index.html')) },
    'app.css': { type: 'text/css; charset=utf-8', body: fs.readFileSync(path.join(UI_DIR, 'app.css')) },
    'app.js': { type: 'text/javascript; charset=utf-8', body: Buffer.from(js) },
  };
}

/** Writes the files into `dir`, synchronously (a CDK construct builds them at synth); config.json is deployed apart. */
export function writeUiAssetsSync(dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  for (const [name, file] of Object.entries(assetsOf(buildSync(BUILD).outputFiles[0].contents))) fs.writeFileSync(path.join(dir, name), file.body);
}

/**
 * The headers every answer carries, locally as behind CloudFront (infra/console.ts sets the same
 * policy there): the page loads nothing from elsewhere and cannot be framed.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'cache-control': 'no-store',
};

/**
 * The page's three files: index.html, app.css, and app.js bundled by esbuild from console/ui
 * (preact + htm, minified, one ES module). The local server serves them from memory; the CDK
 * construct uploads the same files to the UI bucket.
 */
import { build } from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';

export const UI_DIR = path.join(__dirname, 'ui');

export interface UiAssets {
  readonly [file: string]: { readonly type: string; readonly body: Buffer };
}

export async function buildUiAssets(): Promise<UiAssets> {
  const out = await build({
    entryPoints: [path.join(UI_DIR, 'main.ts')],
    bundle: true,
    minify: true,
    format: 'esm',
    target: 'es2022',
    write: false,
    legalComments: 'none',
    logLevel: 'silent',
  });
  return {
    'index.html': { type: 'text/html; charset=utf-8', body: fs.readFileSync(path.join(UI_DIR, 'index.html')) },
    'app.css': { type: 'text/css; charset=utf-8', body: fs.readFileSync(path.join(UI_DIR, 'app.css')) },
    'app.js': { type: 'text/javascript; charset=utf-8', body: Buffer.from(out.outputFiles[0].contents) },
  };
}

/** Writes the files into `dir` (what the construct deploys), with a config.json telling the page how to sign in. */
export async function writeUiAssets(dir: string, config: Record<string, unknown>): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  for (const [name, file] of Object.entries(await buildUiAssets())) fs.writeFileSync(path.join(dir, name), file.body);
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
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

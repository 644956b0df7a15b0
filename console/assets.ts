/**
 * The page's three files: index.html, app.css, and app.js bundled by esbuild from console/ui
 * (preact + htm, minified, one ES module). The local server builds them at each start (about
 * a tenth of a second) and serves them from memory; the CDK construct uploads the same files to
 * the UI bucket. Nothing built is committed or kept, so the page is never older than its code.
 *
 * esbuild is loaded when a build is needed, not when the CLI starts: the project's (a dev
 * dependency), else the one tsx brings (tsx, a runtime dependency, runs `dsr` and depends on
 * esbuild), so it is there wherever `dsr` runs after `npm ci`, even with `--omit=dev`. If
 * neither resolves, `dsr console` says what to run; every other command works without it.
 */
import type { BuildOptions } from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import { CliError, EXIT } from '../cli/context';

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

type Esbuild = typeof import('esbuild');

/** Where esbuild is looked for: from here (the project's), then from tsx's own directory. */
function esbuildSearchPaths(): string[] {
  const paths = [__dirname];
  try {
    paths.push(path.dirname(require.resolve('tsx/package.json', { paths: [__dirname] })));
  } catch {
    // No tsx either: the error below names what to install.
  }
  return paths;
}

export function loadEsbuild(paths: readonly string[] = esbuildSearchPaths()): Esbuild {
  for (const from of paths) {
    let resolved: string;
    try {
      resolved = require.resolve('esbuild', { paths: [from] });
    } catch (err) {
      if ((err as { code?: string }).code === 'MODULE_NOT_FOUND') continue;
      throw err;
    }
    // A path known only now: a dynamic require (an import() would make every caller async).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(resolved) as Esbuild;
  }
  throw new CliError('the console\'s page is built at start with esbuild, which is not installed here: run `npm ci` in the checkout (esbuild comes with the dev dependencies and with tsx)', EXIT.environment);
}

export async function buildUiAssets(esbuild: Esbuild = loadEsbuild()): Promise<UiAssets> {
  return assetsOf((await esbuild.build(BUILD)).outputFiles[0].contents);
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
  for (const [name, file] of Object.entries(assetsOf(loadEsbuild().buildSync(BUILD).outputFiles[0].contents))) fs.writeFileSync(path.join(dir, name), file.body);
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

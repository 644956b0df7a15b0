/**
 * The page's build: esbuild is found where `dsr` runs (the project's, else tsx's), the three
 * files come out of console/ui, and where esbuild cannot be found `dsr console` says what to
 * run. The missing case looks from a directory with no node_modules above it: the shared
 * checkout cannot have its esbuild removed for one test.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildUiAssets, loadEsbuild } from '../../console/assets';
import { CliError, EXIT } from '../../cli/context';

describe('console page build', () => {
  it('builds index.html, app.css and one app.js from console/ui (the auditor\'s path in it)', async () => {
    const assets = await buildUiAssets();
    expect(Object.keys(assets).sort()).toEqual(['app.css', 'app.js', 'index.html']);
    const js = assets['app.js'].body.toString('utf8');
    expect(js.length).toBeGreaterThan(10_000);
    expect(js).toContain('/api/audit/');
  });

  it('names what to run when esbuild is nowhere to be found', () => {
    const lonely = fs.mkdtempSync(path.join(os.tmpdir(), 'dsr-no-esbuild-'));
    let error: unknown;
    try {
      loadEsbuild([lonely]);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).exitCode).toBe(EXIT.environment);
    expect((error as Error).message).toMatch(/esbuild.*run `npm ci` in the checkout/);
    // The project's own is found from the console's directory.
    expect(typeof loadEsbuild([path.join(__dirname, '../../console')]).build).toBe('function');
  });
});

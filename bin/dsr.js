#!/usr/bin/env node
// Entry point of the `dsr` CLI. The sources are TypeScript run through tsx, so a fresh
// clone works after `npm ci` with no build step.
'use strict';
const path = require('node:path');
const fs = require('node:fs');

const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  // `npx dsr` outside the checkout's npm scripts runs on whatever Node is first on PATH (often
  // the machine's 20). The project installs its own Node 22 (devDependency `node@22`): re-run
  // this very file with it, once (the variable stops a loop if that binary is also too old).
  const own = path.resolve(__dirname, '..', 'node_modules', 'node', 'bin', 'node');
  if (!process.env.DSR_REEXEC && fs.existsSync(own)) {
    const { spawnSync } = require('node:child_process');
    const run = spawnSync(own, [path.join(__dirname, 'dsr.js'), ...process.argv.slice(2)], { stdio: 'inherit', env: { ...process.env, DSR_REEXEC: '1' } });
    if (run.error) {
      process.stderr.write(`dsr: cannot run the project's Node 22 (${own}): ${run.error.message}\n`);
      process.exit(3);
    }
    // A signal ends the child without a status: exit as a shell would (128 + signal number).
    process.exit(run.status ?? 128 + (require('node:os').constants.signals[run.signal] ?? 0));
  }
  process.stderr.write(
    `dsr needs Node.js 22 or later (this is ${process.version}).\n` +
      'Install the project\'s dependencies (`npm ci`, which brings Node 22 into node_modules) or install Node 22.\n',
  );
  process.exit(2);
}
require('tsx/cjs/api').register();
require('../cli/main.ts')
  .main(process.argv)
  .then((code) => {
    process.exitCode = code;
  });

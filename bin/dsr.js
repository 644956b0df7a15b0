#!/usr/bin/env node
// Entry point of the `dsr` CLI. The sources are TypeScript run through tsx, so a fresh
// clone works after `npm ci` with no build step.
'use strict';
const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  process.stderr.write(
    `dsr needs Node.js 22 or later (this is ${process.version}).\n` +
      'Run it through npm (`npx dsr …` or `npm run …`), which uses the Node 22 installed in node_modules, or install Node 22.\n',
  );
  process.exit(2);
}
require('tsx/cjs/api').register();
require('../cli/main.ts')
  .main(process.argv)
  .then((code) => {
    process.exitCode = code;
  });

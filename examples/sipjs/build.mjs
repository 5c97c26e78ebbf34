#!/usr/bin/env node
// Builds the SIP.js softphone example's copy of SIP.js: node_modules/sip.js (0.21.1, ES modules
// only, no browser build) -> examples/sipjs/dist/sip.js, an IIFE defining the global `SIP`. The
// adapter is not bundled: the page imports its real build, /packages/sipjs/dist/index.mjs (no
// runtime imports), and core's browser build, /packages/core/dist/callstats.min.js (global
// `Callmetry`), both served by the collector with --serve-examples. Run by `npm run build` in
// packages/sipjs. (packages/sipjs/test/example.browser.test.ts builds the same input in memory.)
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleForBrowser } from '../bundle.mjs';

const here = dirname(fileURLToPath(import.meta.url));

await bundleForBrowser(here, {
  stdin: { contents: "import * as SIP from 'sip.js'; globalThis.SIP = SIP;", resolveDir: here, sourcefile: 'sip-global.js' },
  outfile: 'sip.js',
});

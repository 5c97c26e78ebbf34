#!/usr/bin/env node
// Builds the JsSIP softphone example's copy of JsSIP: node_modules/jssip (3.13.8, which ships no
// browser build) -> examples/jssip/dist/jssip.js, an IIFE defining the global `JsSIP`. The adapter
// is not bundled: the page imports its real build, /packages/jssip/dist/index.mjs (which imports
// @callmetry/core: an import map points it at /packages/core/dist/index.mjs), and core's browser
// build, /packages/core/dist/callstats.min.js (global `Callmetry`), all served by the collector
// with --serve-examples. Run by `npm run build` in packages/jssip.
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleForBrowser } from '../bundle.mjs';

const here = dirname(fileURLToPath(import.meta.url));

await bundleForBrowser(here, {
  stdin: { contents: "import * as JsSIP from 'jssip'; globalThis.JsSIP = JsSIP;", resolveDir: here, sourcefile: 'jssip-global.js' },
  outfile: 'jssip.js',
});

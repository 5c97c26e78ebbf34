#!/usr/bin/env node
// Builds the Janus video room example's copy of janus.js: node_modules/janus-gateway (1.4.2, an ES
// module that needs webrtc-adapter passed in) + webrtc-adapter (9.0.3) -> examples/janus/dist/janus.js,
// an IIFE defining the globals `Janus` and `adapter`. The adapter is not bundled: the page imports
// its real build, /packages/janus/dist/index.mjs (no runtime imports), and core's browser build,
// /packages/core/dist/callstats.min.js (global `Callmetry`), both served by the collector with
// --serve-examples. Run by `npm run build` in packages/janus.
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleForBrowser } from '../bundle.mjs';

const here = dirname(fileURLToPath(import.meta.url));

await bundleForBrowser(here, {
  stdin: {
    contents: "import Janus from 'janus-gateway'; import adapter from 'webrtc-adapter'; globalThis.Janus = Janus; globalThis.adapter = adapter;",
    resolveDir: here,
    sourcefile: 'janus-global.js',
  },
  outfile: 'janus.js',
});

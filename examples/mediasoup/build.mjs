#!/usr/bin/env node
// Builds the mediasoup demo page's script: examples/mediasoup/demo.ts -> examples/mediasoup/dist/demo.js
// (ES module for the browser). mediasoup-client and the loopback SFU stand-in are bundled; the
// adapter is NOT: the demo imports its real build, /packages/mediasoup/dist/index.mjs, as served
// by the collector with --serve-examples. Run by `npm run build` in packages/mediasoup.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleForBrowser } from '../bundle.mjs';

const here = dirname(fileURLToPath(import.meta.url));

/** `../../packages/mediasoup/src/index` (type-checked source) -> the adapter's build, left external. */
const adapterFromDist = {
  name: 'adapter-from-dist',
  setup(build) {
    build.onResolve({ filter: /packages\/mediasoup\/src\/index(\.ts)?$/ }, () => ({
      path: '/packages/mediasoup/dist/index.mjs',
      external: true,
    }));
  },
};

await bundleForBrowser(here, {
  entryPoints: [join(here, 'demo.ts')],
  format: 'esm',
  plugins: [adapterFromDist],
  outfile: 'demo.js',
});

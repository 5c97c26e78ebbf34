#!/usr/bin/env node
// Builds the mediasoup demo page's script: examples/mediasoup/demo.ts -> examples/mediasoup/dist/demo.js
// (ES module for the browser). mediasoup-client and the loopback SFU stand-in are bundled; the
// adapter is NOT: the demo imports its real build, /packages/mediasoup/dist/index.mjs, as served
// by the collector with --serve-examples. Run by `npm run build` in packages/mediasoup.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

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

await esbuild.build({
  entryPoints: [join(here, 'demo.ts')],
  outfile: join(here, 'dist', 'demo.js'),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2020',
  sourcemap: true,
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
  plugins: [adapterFromDist],
});
console.log('examples/mediasoup/dist/demo.js built');

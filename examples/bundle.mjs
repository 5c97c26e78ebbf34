// Shared by the examples' build scripts: one esbuild setup for every browser bundle they make.
import { basename, join } from 'node:path';
import * as esbuild from 'esbuild';

/** Bundles for the browser into `<exampleDir>/dist/<outfile>` (IIFE unless `format` says otherwise). */
export async function bundleForBrowser(exampleDir, { outfile, ...options }) {
  await esbuild.build({
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2020',
    sourcemap: true,
    minify: true,
    legalComments: 'none',
    logLevel: 'warning',
    ...options,
    outfile: join(exampleDir, 'dist', outfile),
  });
  console.log(`examples/${basename(exampleDir)}/dist/${outfile} built`);
}

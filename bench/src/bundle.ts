// esbuild helpers shared by the size measurement and the page bundles.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type * as esbuild from 'esbuild';
import { BENCH_DIR, REPO_ROOT } from './util';

export const CORE_SRC = join(REPO_ROOT, 'packages', 'core', 'src', 'index.ts');
export const BENCH_NODE_MODULES = join(BENCH_DIR, 'node_modules');

/** `@callmetry/core` -> core source (as the test harness does). */
export const coreSourcePlugin: esbuild.Plugin = {
  name: 'callmetry-core-src',
  setup(build) {
    build.onResolve({ filter: /^@callmetry\/core$/ }, () => ({ path: CORE_SRC }));
  },
};

/**
 * @jitsi/rtcstats 9.7.1 imports `@jitsi/js-utils/browser-detection`; js-utils 2.8 maps `./*` to
 * `./dist/*`, a folder, which strict `exports` resolution does not complete to its index.js (its
 * own build used a bundler that did). Resolve it to that index.js: same code, nothing changed.
 */
export const jitsiUtilsPlugin: esbuild.Plugin = {
  name: 'jitsi-js-utils-folder-export',
  setup(build) {
    build.onResolve({ filter: /^@jitsi\/js-utils\/[\w-]+$/ }, (args) => {
      const sub = args.path.slice('@jitsi/js-utils/'.length);
      const dir = join(BENCH_NODE_MODULES, '@jitsi', 'js-utils', 'dist', sub);
      if (existsSync(dir) && statSync(dir).isDirectory() && existsSync(join(dir, 'index.js'))) return { path: join(dir, 'index.js') };
      return undefined;
    });
  },
};

// One rollup config for every package: `rollup -c ../../rollup.config.mjs --environment PKG:<folder>`.
// Each package builds ESM + CJS + bundled .d.ts; core also builds the browser global `callstats`.
import { readFileSync, existsSync } from 'node:fs';
import { resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import esbuild from 'rollup-plugin-esbuild';
import { dts } from 'rollup-plugin-dts';
import nodeResolve from '@rollup/plugin-node-resolve';
import terser from '@rollup/plugin-terser';

const root = dirname(fileURLToPath(import.meta.url));
const pkgName = process.env.PKG;
if (!pkgName) throw new Error('rollup: set --environment PKG:<package folder>');
const pkgDir = resolve(root, 'packages', pkgName);
const pkg = JSON.parse(readFileSync(resolve(pkgDir, 'package.json'), 'utf8'));
const deps = [
  ...Object.keys(pkg.dependencies ?? {}),
  ...Object.keys(pkg.peerDependencies ?? {}),
];
// Node built-ins and declared dependencies stay external; nothing else is bundled into a library build.
const external = (id) => id.startsWith('node:') || deps.some((d) => id === d || id.startsWith(`${d}/`));
const ts = () => esbuild({ target: 'es2020', tsconfig: resolve(root, 'tsconfig.base.json') });

const entries = { index: resolve(pkgDir, 'src/index.ts') };
if (pkgName === 'collector') entries.cli = resolve(pkgDir, 'src/cli.ts');

const configs = [
  {
    input: entries,
    external,
    plugins: [ts()],
    output: [
      { dir: resolve(pkgDir, 'dist'), format: 'es', entryFileNames: '[name].mjs', chunkFileNames: '[name]-[hash].mjs', sourcemap: true },
      { dir: resolve(pkgDir, 'dist'), format: 'cjs', entryFileNames: '[name].cjs', chunkFileNames: '[name]-[hash].cjs', sourcemap: true, exports: 'named' },
    ],
  },
  {
    input: resolve(pkgDir, 'src/index.ts'),
    external,
    plugins: [dts({ tsconfig: resolve(root, 'tsconfig.base.json') })],
    // The same declarations twice: .d.ts for `import`, .d.cts for `require` (in a "type": "module"
    // package a .d.ts describes an ES module, which a CommonJS TypeScript consumer may not require).
    output: [
      { file: resolve(pkgDir, 'dist/index.d.ts'), format: 'es' },
      { file: resolve(pkgDir, 'dist/index.d.cts'), format: 'es' },
    ],
  },
];

if (pkgName === 'collector') {
  // The collector's reader worker thread (src/storage/readerWorker.ts), started by the library at
  // run time from dist/readerWorker.mjs (an ES module whether the library was imported or required):
  // a separate build, so it is self-contained and the library entries share no chunk with it.
  configs.push({
    input: resolve(pkgDir, 'src/storage/readerWorker.ts'),
    external,
    plugins: [ts()],
    output: { file: resolve(pkgDir, 'dist/readerWorker.mjs'), format: 'es', sourcemap: true },
  });
}

const browserEntry = resolve(pkgDir, 'src/browser.ts');
if (pkgName === 'core' && existsSync(browserEntry)) {
  // Drop-in for callstats.js's script tag: defines the global constructor `callstats`.
  // ES2020 output (classes, optional chaining and `??` are not down-leveled). pure_getters: no getter
  // in core has side effects; unsafe_methods: no object-literal function is called with `new`.
  // Never `unsafe_comps`: the stats code relies on comparisons with NaN being false.
  configs.push({
    input: browserEntry,
    plugins: [
      nodeResolve(),
      ts(),
      terser({ ecma: 2020, compress: { passes: 3, pure_getters: true, unsafe_methods: true }, format: { comments: false } }),
    ],
    output: { file: resolve(pkgDir, 'dist/callstats.min.js'), format: 'iife', sourcemap: true },
  });
}

export default configs;

#!/usr/bin/env node
// `npm run bench` (after the root build of core and collector) -> `node bench/run.mjs [--only a,b]`.
//
// 1. Installs the peer SDKs into bench/node_modules (`npm ci --prefix bench`) when missing: they are
//    devDependencies of this private package only, never of the workspaces.
// 2. Bundles the TypeScript benchmark (bench/src) with esbuild into bench/.out.
// 3. Creates a private network namespace (`ip netns add`, lo up), runs the benchmark inside it
//    (Chromium, the collector and its clients only ever see 127.0.0.1) and deletes it afterwards,
//    also on SIGINT/SIGTERM. Must run as root, like the test suite.
// The exit code is the benchmark's: non-zero when a budget is missed (the table says which).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDebianPackages } from '../test/harness/debian.mjs';
import { createNamespace, forwardSignals, requireExecutable, requireIproute2, requireRoot, runnerOutput, spawnInNamespace } from '../test/harness/netns.mjs';

const benchDir = dirname(fileURLToPath(import.meta.url));
const root = join(benchDir, '..');
const outDir = join(benchDir, '.out');
const NS_PREFIX = 'callmetry-bench-';
const CHROMIUM = '/usr/bin/chromium';

const { log, fail } = runnerOutput('bench/run', 2);

// ---- preconditions ---------------------------------------------------------------------------
requireRoot(fail, 'the benchmark must run as root: it creates a network namespace (ip netns add) so that Chromium\n' +
  'and the collector only use 127.0.0.1. Run it as root, e.g. sudo npm run bench.');
ensureDebianPackages(['chromium', 'iproute2'], { log, fail });
requireExecutable(CHROMIUM, fail, `${CHROMIUM} not found: apt-get update && apt-get install -y chromium`);
requireIproute2(fail);
for (const f of ['packages/core/dist/callstats.min.js', 'packages/collector/dist/index.mjs']) {
  if (!existsSync(join(root, f))) fail(`${f} is missing: build first (npm run bench builds core and collector).`);
}
if (!existsSync(join(root, 'node_modules', 'esbuild'))) fail('esbuild is not installed at the root: run npm install first.');

// ---- peer SDKs ---------------------------------------------------------------------------------
if (!existsSync(join(benchDir, 'node_modules', 'callstats-js', 'package.json'))) {
  log('installing the peer SDKs: npm ci --prefix bench');
  const r = spawnSync('npm', ['ci', '--prefix', benchDir, '--no-audit', '--no-fund'], { stdio: 'inherit', cwd: root });
  if (r.status !== 0) fail('npm ci --prefix bench failed');
}

// ---- bundle the benchmark ----------------------------------------------------------------------
const esbuild = await import('esbuild');
rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });
await esbuild.build({
  entryPoints: { main: join(benchDir, 'src', 'main.ts'), 'collector-proc': join(benchDir, 'src', 'collector-proc.ts') },
  outdir: outDir,
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: 'inline',
  logLevel: 'warning',
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
});

// ---- namespace ---------------------------------------------------------------------------------
const { name: ns, cleanup } = createNamespace({ prefix: NS_PREFIX, log, fail });
log(`namespace ${ns} (lo 127.0.0.1 only)`);

// ---- run ---------------------------------------------------------------------------------------
const child = spawnInNamespace(ns, process.execPath, ['--expose-gc', join(outDir, 'main.mjs'), ...process.argv.slice(2)], {
  cwd: root,
  env: { ...process.env, CALLMETRY_BENCH_NETNS: ns },
});
const signalled = forwardSignals(child, { log, what: 'the benchmark', graceMs: 10_000 });
child.on('error', (e) => {
  log(`could not start the benchmark: ${e.message}`);
  cleanup();
  process.exit(2);
});
child.on('exit', (code, signal) => {
  cleanup();
  if (code !== null) process.exit(signalled() && code === 0 ? 130 : code);
  log(`benchmark terminated by ${signal}`);
  process.exit(2);
});

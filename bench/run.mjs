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
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const benchDir = dirname(fileURLToPath(import.meta.url));
const root = join(benchDir, '..');
const outDir = join(benchDir, '.out');
const NS_PREFIX = 'callmetry-bench-';
const ns = `${NS_PREFIX}${process.pid}`;
const CHROMIUM = '/usr/bin/chromium';

const log = (m) => console.error(`[bench/run] ${m}`);
function fail(m) {
  console.error(`\n[bench/run] ERROR: ${m}\n`);
  process.exit(2);
}
function run(cmd, args, { allowFail = false, cwd } = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', cwd });
  if (r.error) throw new Error(`${cmd} ${args.join(' ')}: ${r.error.message}`);
  if (r.status !== 0 && !allowFail) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${(r.stderr || r.stdout).trim()}`);
  return r;
}

// ---- preconditions ---------------------------------------------------------------------------
if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
  fail('the benchmark must run as root: it creates a network namespace (ip netns add) so that Chromium\n' +
    'and the collector only use 127.0.0.1. Run it as root, e.g. sudo npm run bench.');
}
try {
  accessSync(CHROMIUM, constants.X_OK);
} catch {
  fail(`${CHROMIUM} not found: apt-get update && apt-get install -y chromium`);
}
if (run('ip', ['-V'], { allowFail: true }).status !== 0) fail('`ip` (iproute2) is required: apt-get install -y iproute2');
for (const f of ['packages/core/dist/callstats.min.js', 'packages/collector/dist/index.mjs']) {
  if (!existsSync(join(root, f))) fail(`${f} is missing: build first (npm run bench builds core and collector).`);
}
if (!existsSync(join(root, 'node_modules', 'esbuild'))) fail('esbuild is not installed at the root: run npm ci first.');

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
function pidAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}
function deleteNamespace(name) {
  const pids = () => run('ip', ['netns', 'pids', name], { allowFail: true }).stdout?.split(/\s+/).filter(Boolean).map(Number) ?? [];
  let left = pids();
  if (left.length) {
    log(`stopping processes left in ${name}: ${left.join(' ')}`);
    for (const pid of left) try { process.kill(pid, 'SIGTERM'); } catch {}
    const until = Date.now() + 3000;
    while ((left = pids()).length && Date.now() < until) spawnSync('sleep', ['0.1']);
    for (const pid of left) try { process.kill(pid, 'SIGKILL'); } catch {}
  }
  run('ip', ['netns', 'delete', name], { allowFail: true });
}
// Namespaces of earlier runs that were killed (their runner pid is gone) are stale: remove them.
for (const line of run('ip', ['netns', 'list'], { allowFail: true }).stdout?.split('\n') ?? []) {
  const m = /^(callmetry-bench-(\d+))\b/.exec(line.trim());
  if (m && Number(m[2]) !== process.pid && !pidAlive(Number(m[2]))) {
    log(`removing stale namespace ${m[1]}`);
    deleteNamespace(m[1]);
  }
}
let created = false;
let cleaned = false;
function cleanup() {
  if (!created || cleaned) return;
  cleaned = true;
  deleteNamespace(ns);
  log(`namespace ${ns} deleted`);
}
process.on('exit', cleanup);
try {
  run('ip', ['netns', 'add', ns]);
  created = true;
  run('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up']);
} catch (e) {
  cleanup();
  fail(`could not set up network namespace ${ns}: ${e.message}`);
}
log(`namespace ${ns} (lo 127.0.0.1 only)`);

// ---- run ---------------------------------------------------------------------------------------
const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '--expose-gc', join(outDir, 'main.mjs'), ...process.argv.slice(2)], {
  cwd: root,
  env: { ...process.env, CALLMETRY_BENCH_NETNS: ns },
  stdio: 'inherit',
});
let signalled = null;
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    if (signalled) return;
    signalled = sig;
    log(`${sig}: stopping the benchmark`);
    try { child.kill(sig); } catch {}
    setTimeout(() => { try { child.kill('SIGKILL'); } catch {} }, 10_000).unref();
  });
}
child.on('error', (e) => {
  log(`could not start the benchmark: ${e.message}`);
  cleanup();
  process.exit(2);
});
child.on('exit', (code, signal) => {
  cleanup();
  if (code !== null) process.exit(signalled && code === 0 ? 130 : code);
  log(`benchmark terminated by ${signal}`);
  process.exit(2);
});

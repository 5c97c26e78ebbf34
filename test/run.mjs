#!/usr/bin/env node
// Test entry (`npm test` -> `node test/run.mjs [vitest args...]`).
//
// Runs vitest inside a private network namespace so that every packet of every test (Chromium,
// Janus, Kamailio, the collector) stays on loopback and WebRTC only gathers 127.0.0.x:
//   - namespace `callmetry-<pid>` with `lo` up (127.0.0.1),
//   - a veth pair `cmjanus0` <-> `cmjanus1`, 127.0.0.2/32 on cmjanus0, IPv6 disabled on both
//     (Janus/libnice ignores loopback interfaces and needs a real one: ice_enforce_list=cmjanus0).
// Exported to tests: CALLMETRY_NETNS, CALLMETRY_JANUS_IFACE, CALLMETRY_JANUS_IP.
// The namespace (and any process left in it) is removed on exit, SIGINT and SIGTERM; the exit
// code is vitest's. Requires root and /usr/bin/chromium: missing either fails, never skips.
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const CHROMIUM = '/usr/bin/chromium';
const NS_PREFIX = 'callmetry-';
const ns = `${NS_PREFIX}${process.pid}`;
const JANUS_IFACE = 'cmjanus0';
const JANUS_PEER = 'cmjanus1';
const JANUS_IP = '127.0.0.2';

const log = (msg) => console.error(`[test/run] ${msg}`);
function fail(msg) {
  console.error(`\n[test/run] ERROR: ${msg}\n`);
  process.exit(1);
}

/** Run a command synchronously; throws with its stderr unless `allowFail`. */
function run(cmd, args, { allowFail = false } = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error) throw new Error(`${cmd} ${args.join(' ')}: ${r.error.message}`);
  if (r.status !== 0 && !allowFail) {
    throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${(r.stderr || r.stdout).trim()}`);
  }
  return r;
}

// ---- preconditions: fail loudly -------------------------------------------------------------
if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
  fail('the test suite must run as root: it creates a network namespace (ip netns add) so that\n' +
    'WebRTC, Janus and Kamailio only ever use 127.0.0.0/8. Run it as root (CI does), e.g. sudo npm test.');
}
try {
  accessSync(CHROMIUM, constants.X_OK);
} catch {
  fail(`${CHROMIUM} not found or not executable. Browser tests need Debian's Chromium:\n` +
    '  apt-get update && apt-get install -y chromium\n(.ci/run installs it on CI.)');
}
if (run('ip', ['-V'], { allowFail: true }).status !== 0) fail('`ip` (iproute2) is required: apt-get install -y iproute2');
const vitestBin = join(root, 'node_modules', 'vitest', 'vitest.mjs');
if (!existsSync(vitestBin)) fail(`vitest is not installed (${vitestBin} missing): run npm ci first.`);

// ---- namespace lifecycle --------------------------------------------------------------------
function pidAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

/** Kill the processes left inside `name` (by PID, all started by this run) and delete it. */
function deleteNamespace(name) {
  const pids = () =>
    run('ip', ['netns', 'pids', name], { allowFail: true }).stdout?.split(/\s+/).filter(Boolean).map(Number) ?? [];
  let left = pids();
  if (left.length) {
    log(`killing processes left in ${name}: ${left.join(' ')}`);
    for (const pid of left) try { process.kill(pid, 'SIGTERM'); } catch {}
    const until = Date.now() + 3000;
    while ((left = pids()).length && Date.now() < until) spawnSync('sleep', ['0.1']);
    for (const pid of left) try { process.kill(pid, 'SIGKILL'); } catch {}
  }
  run('ip', ['netns', 'delete', name], { allowFail: true });
}

// Namespaces of earlier runs that were SIGKILLed (their runner pid is gone) are stale: remove them.
for (const line of run('ip', ['netns', 'list'], { allowFail: true }).stdout?.split('\n') ?? []) {
  const m = /^(callmetry-(\d+))\b/.exec(line.trim());
  if (m && Number(m[2]) !== process.pid && !pidAlive(Number(m[2]))) {
    log(`removing stale namespace ${m[1]}`);
    deleteNamespace(m[1]);
  }
}

let created = false;
let cleanedUp = false;
function cleanup() {
  if (!created || cleanedUp) return;
  cleanedUp = true;
  deleteNamespace(ns);
  const still = run('ip', ['netns', 'list'], { allowFail: true }).stdout ?? '';
  if (still.split('\n').some((l) => l.trim().split(/\s/)[0] === ns)) log(`WARNING: could not delete namespace ${ns}`);
  else log(`namespace ${ns} deleted`);
}
process.on('exit', cleanup);

try {
  const inNs = (...args) => run('ip', ['netns', 'exec', ns, ...args]);
  run('ip', ['netns', 'add', ns]);
  created = true;
  inNs('ip', 'link', 'set', 'lo', 'up');
  inNs('ip', 'link', 'add', JANUS_IFACE, 'type', 'veth', 'peer', 'name', JANUS_PEER);
  for (const ifc of [JANUS_IFACE, JANUS_PEER]) inNs('sysctl', '-q', '-w', `net.ipv6.conf.${ifc}.disable_ipv6=1`);
  inNs('ip', 'addr', 'add', `${JANUS_IP}/32`, 'dev', JANUS_IFACE);
  inNs('ip', 'link', 'set', JANUS_IFACE, 'up');
  inNs('ip', 'link', 'set', JANUS_PEER, 'up');
} catch (e) {
  cleanup();
  fail(`could not set up network namespace ${ns}: ${e.message}`);
}
log(`namespace ${ns}: lo 127.0.0.1, ${JANUS_IFACE} ${JANUS_IP}/32 (veth, no IPv6)`);

// ---- vitest ---------------------------------------------------------------------------------
const args = process.argv.slice(2);
const env = {
  ...process.env,
  CALLMETRY_NETNS: ns,
  CALLMETRY_JANUS_IFACE: JANUS_IFACE,
  CALLMETRY_JANUS_IP: JANUS_IP,
};
log(`ip netns exec ${ns} vitest run ${args.join(' ')}`.trimEnd());
// `ip netns exec` execs the command, so the child pid is vitest itself. The local vitest binary
// is used directly (same as `npx vitest run`, but never reaches for the registry).
// A JSON report next to the usual output gives the plain closing line CI reads (see below).
const reportDir = mkdtempSync(join(tmpdir(), 'callmetry-report-'));
const reportFile = join(reportDir, 'vitest.json');
const reporters = ['--reporter=default', '--reporter=json', `--outputFile.json=${reportFile}`];
const child = spawn('ip', ['netns', 'exec', ns, process.execPath, vitestBin, 'run', ...reporters, ...args], {
  cwd: root,
  env,
  stdio: 'inherit',
});

let signalled = null;
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    if (signalled) return;
    signalled = sig;
    log(`${sig}: stopping vitest`);
    try { child.kill(sig); } catch {}
    // vitest gets a moment to close browsers and servers; then it is killed.
    setTimeout(() => { try { child.kill('SIGKILL'); } catch {} }, 15_000).unref();
  });
}

child.on('error', (e) => {
  log(`could not start vitest: ${e.message}`);
  cleanup();
  process.exit(1);
});
/** Prints `vitest: N passed, N failed[, N skipped]` alone on a line, the summary CI reads. */
function printPlainSummary() {
  try {
    const report = JSON.parse(readFileSync(reportFile, 'utf8'));
    const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
    console.log(`\nvitest: ${report.numPassedTests} passed, ${report.numFailedTests} failed${skipped ? `, ${skipped} skipped` : ''}`);
  } catch {
    log('no vitest JSON report (the run did not finish)');
  } finally {
    rmSync(reportDir, { recursive: true, force: true });
  }
}

child.on('exit', (code, signal) => {
  cleanup();
  printPlainSummary();
  const signum = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };
  if (code !== null) process.exit(signalled && code === 0 ? 128 + signum[signalled] : code);
  log(`vitest terminated by ${signal}`);
  process.exit(128 + (signum[signal] ?? 1));
});

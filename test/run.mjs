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
// code is vitest's. Requires root; installs Chromium, Firefox ESR, Kamailio, Janus and iproute2 from Debian when
// missing (apt-get); anything still missing fails, never skips.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDebianPackages } from './harness/debian.mjs';
import { createNamespace, forwardSignals, requireExecutable, requireIproute2, requireRoot, runnerOutput, spawnInNamespace } from './harness/netns.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const CHROMIUM = '/usr/bin/chromium';
const NS_PREFIX = 'callmetry-';
const JANUS_IFACE = 'cmjanus0';
const JANUS_PEER = 'cmjanus1';
const JANUS_IP = '127.0.0.2';

const { log, fail } = runnerOutput('test/run', 1);

// ---- preconditions: fail loudly -------------------------------------------------------------
requireRoot(fail, 'the test suite must run as root: it creates a network namespace (ip netns add) so that\n' +
  'WebRTC, Janus and Kamailio only ever use 127.0.0.0/8. Run it as root (CI does), e.g. sudo npm test.');
// The real servers and the browser the tests drive: installed here when missing (never skipped).
ensureDebianPackages(['chromium', 'firefox-esr', 'kamailio', 'kamailio-websocket-modules', 'janus', 'iproute2'], { log, fail });
requireExecutable(CHROMIUM, fail, `${CHROMIUM} not found or not executable. Browser tests need Debian's Chromium:\n` +
  '  apt-get update && apt-get install -y chromium');
requireIproute2(fail);
const vitestBin = join(root, 'node_modules', 'vitest', 'vitest.mjs');
if (!existsSync(vitestBin)) fail(`vitest is not installed (${vitestBin} missing): run npm install first.`);

// ---- namespace ------------------------------------------------------------------------------
const { name: ns, cleanup } = createNamespace({
  prefix: NS_PREFIX,
  log,
  fail,
  setup(inNs) {
    inNs('ip', 'link', 'add', JANUS_IFACE, 'type', 'veth', 'peer', 'name', JANUS_PEER);
    for (const ifc of [JANUS_IFACE, JANUS_PEER]) inNs('sysctl', '-q', '-w', `net.ipv6.conf.${ifc}.disable_ipv6=1`);
    inNs('ip', 'addr', 'add', `${JANUS_IP}/32`, 'dev', JANUS_IFACE);
    inNs('ip', 'link', 'set', JANUS_IFACE, 'up');
    inNs('ip', 'link', 'set', JANUS_PEER, 'up');
  },
});
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
const child = spawnInNamespace(ns, process.execPath, [vitestBin, 'run', ...reporters, ...args], { cwd: root, env });
// vitest gets a moment to close browsers and servers; then it is killed.
const signalled = forwardSignals(child, { log, what: 'vitest', graceMs: 15_000 });

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
  if (code !== null) process.exit(signalled() && code === 0 ? 128 + signum[signalled()] : code);
  log(`vitest terminated by ${signal}`);
  process.exit(128 + (signum[signal] ?? 1));
});

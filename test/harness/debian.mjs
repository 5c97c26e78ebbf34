// The Debian packages a runner needs (test/run.mjs: Chromium, Firefox ESR, Kamailio, Janus, iproute2;
// bench/run.mjs: Chromium, iproute2), installed with apt-get when missing, so that the README's
// `npm install && npm test` works on a fresh machine. Packages already installed are never touched.
// Plain ESM without dependencies: both runners run under plain `node`, as root.
import { spawnSync } from 'node:child_process';

const installed = (pkg) =>
  spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' }).stdout?.trim() === 'install ok installed';

/**
 * Installs the packages of `packages` that dpkg does not list as installed (apt-get update, then
 * apt-get install -y, its output on stderr); fail(msg) when that does not leave them installed.
 * Without dpkg (not Debian) it does nothing: the runner's own checks then name what is missing.
 */
export function ensureDebianPackages(packages, { log, fail }) {
  if (spawnSync('dpkg-query', ['--version']).status !== 0) return;
  const missing = packages.filter((p) => !installed(p));
  if (missing.length === 0) return;
  log(`installing missing Debian packages: ${missing.join(' ')} (apt-get update && apt-get install -y)`);
  const apt = (args) =>
    spawnSync('apt-get', args, { stdio: ['ignore', 2, 2], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  const update = apt(['update']);
  if (update.status !== 0) fail(`apt-get update failed (${update.error?.message ?? `exit ${update.status}`}); install by hand: apt-get install -y ${missing.join(' ')}`);
  const install = apt(['install', '-y', ...missing]);
  const still = missing.filter((p) => !installed(p));
  if (install.status !== 0 || still.length > 0) {
    fail(`apt-get install -y ${missing.join(' ')} failed (${install.error?.message ?? `exit ${install.status}`}); not installed: ${still.join(' ') || 'none'}`);
  }
}

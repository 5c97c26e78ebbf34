#!/usr/bin/env node
// `npm start`: builds the packages when their dist is missing or older than their sources, then
// runs the collector with its dashboard and the examples on an embedded SQLite file
// (./callmetry.sqlite unless --db or CALLMETRY_DB says otherwise). Extra arguments go to the CLI.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

function isStale(pkgDir) {
  const built = join(pkgDir, 'dist', 'index.mjs');
  if (!existsSync(built)) return true;
  return newestMtime(join(pkgDir, 'src')) > statSync(built).mtimeMs;
}

const packagesDir = join(root, 'packages');
const stale = readdirSync(packagesDir).filter((name) => existsSync(join(packagesDir, name, 'src')) && isStale(join(packagesDir, name)));
if (stale.length > 0) {
  console.log(`[start] building (${stale.join(', ')} changed or not built yet)`);
  const build = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) process.exit(build.status ?? 1);
}

const cli = spawn(process.execPath, [join(packagesDir, 'collector', 'dist', 'cli.cjs'), '--serve-examples', ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => cli.kill(signal));
cli.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));

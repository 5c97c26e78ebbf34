// Where the collector's own files are, from source (vitest) and from dist/ alike.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folder of @callmetry/collector's package.json, found by walking up from this module. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj)) {
      try {
        if ((JSON.parse(readFileSync(pj, 'utf8')) as { name?: string }).name === '@callmetry/collector') return dir;
      } catch {
        // not ours; keep walking
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new Error('collector: cannot find the @callmetry/collector package folder');
    dir = up;
  }
}

export function dashboardDir(): string {
  return join(packageRoot(), 'dashboard');
}

/** The monorepo root (packages/collector/../..): for --serve-examples. */
export function defaultRepoRoot(): string {
  return resolve(packageRoot(), '..', '..');
}

/** chart.js's UMD bundle (not in its package exports, so found next to its main file). */
export function chartJsUmdPath(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('chart.js')), 'chart.umd.js');
}

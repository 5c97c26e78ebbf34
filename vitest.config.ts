// Root vitest config for the whole monorepo. Run through `node test/run.mjs` (npm test), which
// puts the run inside a private network namespace; see test/run.mjs.
import { defineConfig } from 'vitest/config';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(fileURLToPath(import.meta.url));

/** `@callmetry/<name>` (exact specifier) -> packages/<folder>/src/index.ts, so tests run against source. */
function workspaceAliases(): { find: RegExp; replacement: string }[] {
  const pkgsDir = join(root, 'packages');
  return readdirSync(pkgsDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(pkgsDir, d.name, 'package.json')))
    .map((d) => {
      const { name } = JSON.parse(readFileSync(join(pkgsDir, d.name, 'package.json'), 'utf8')) as { name: string };
      const escaped = name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
      return { find: new RegExp(`^${escaped}$`), replacement: join(pkgsDir, d.name, 'src', 'index.ts') };
    });
}

// Browser tests each drive a real Chromium encoding real video: on 2 cores, two such files at
// once starve each other's encoders and timers (bitrates, RTCP timing), so one file at a time
// (about 4 minutes in all). CALLMETRY_TEST_WORKERS=2 trades that for speed on a bigger machine.
const workers = Math.max(1, Number(process.env.CALLMETRY_TEST_WORKERS) || 1);

export default defineConfig({
  resolve: { alias: workspaceAliases() },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    environment: 'node',
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: workers,
    minWorkers: 1,
    poolOptions: { forks: { maxForks: workers, minForks: 1 } },
    testTimeout: 60_000,
    hookTimeout: 120_000,
    teardownTimeout: 30_000,
    // A stuck test must fail the run, not hang CI: no retries hiding flakiness either.
    retry: 0,
    passWithNoTests: false,
  },
});

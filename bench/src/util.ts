// Small helpers shared by the Node side of the benchmark.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** bench/.out/main.mjs at run time (run.mjs bundles src/ there); src/ when type-checked. */
export const BENCH_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const REPO_ROOT = resolve(BENCH_DIR, '..');
export const FIXTURES_DIR = join(REPO_ROOT, 'packages', 'core', 'test', 'fixtures');

/** Quantile (0..1) by linear interpolation; NaN for an empty list. */
export function quantile(values: readonly number[], q: number): number {
  if (!values.length) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = s[lo] as number;
  const b = s[hi] as number;
  return a + (b - a) * (pos - lo);
}

export const median = (v: readonly number[]): number => quantile(v, 0.5);

export interface Dist {
  median: number;
  p90: number;
  n: number;
}

export function dist(values: readonly number[]): Dist {
  return { median: median(values), p90: quantile(values, 0.9), n: values.length };
}

export function round(v: number, digits = 1): number {
  if (!Number.isFinite(v)) return v;
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

export function kb(bytes: number): string {
  return `${(bytes / 1024).toFixed(2)} KB`;
}

export function log(message: string): void {
  console.error(`[bench] ${message}`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The same-origin data the pages read: one recorded side of a fixture. */
export interface PageFixture {
  name: string;
  description: string;
  localSDP: string;
  remoteSDP: string;
  polls: Array<Array<Record<string, unknown>>>;
}

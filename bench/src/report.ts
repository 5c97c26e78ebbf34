// The one table: printed, written as JSON (bench/results/latest.json) and as the README's
// performance section (between <!-- bench:start --> and <!-- bench:end -->).
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH_DIR, REPO_ROOT } from './util';

export type Status = 'PASS' | 'FAIL' | 'info' | 'error';

export interface Row {
  section: string;
  measurement: string;
  callmetry: string;
  comparison: string;
  budget: string;
  status: Status;
}

export interface Budget {
  name: string;
  pass: boolean;
  detail: string;
}

export function table(rows: Row[]): string {
  const head = ['#', 'measurement', 'Callmetry', 'comparison', 'budget', 'result'];
  const body = rows.map((r) => [r.section, r.measurement, r.callmetry, r.comparison, r.budget, r.status]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] as string).length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i] as number)).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n');
}

export function writeJson(result: unknown): string {
  const dir = join(BENCH_DIR, 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'latest.json');
  writeFileSync(`${file}.tmp`, `${JSON.stringify(result, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
  return file;
}

const START = '<!-- bench:start -->';
const END = '<!-- bench:end -->';

/** Replaces the README's performance section between the markers (adds the section if missing). */
export function writeReadme(markdown: string): string {
  const file = join(REPO_ROOT, 'README.md');
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const block = `${START}\n${markdown.trim()}\n${END}`;
  let next: string;
  const a = text.indexOf(START);
  const b = text.indexOf(END);
  if (a >= 0 && b > a) next = text.slice(0, a) + block + text.slice(b + END.length);
  else next = `${text.trimEnd()}\n\n## Performance\n\n${block}\n`;
  writeFileSync(file, next);
  return file;
}

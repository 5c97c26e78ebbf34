// Development only (src/ is not published, and the build never includes this file): runs the
// reader worker (./readerWorker.ts) from its TypeScript source, as vitest runs the collector. A
// worker thread is a plain Node.js thread, outside vitest's module transform: this registers
// module hooks that compile `.ts` files with esbuild (a devDependency of the repo) and resolve the
// source's extensionless relative imports, then loads the worker.
// The built collector starts dist/readerWorker.mjs instead (see workerEntry() in ./readerPool.ts).
import { createRequire, register } from 'node:module';
import { pathToFileURL } from 'node:url';

const hooks = `
import { readFileSync } from 'node:fs';
let esbuild;
export async function initialize(data) {
  const m = await import(data.esbuildUrl);
  esbuild = typeof m.transformSync === 'function' ? m : m.default;
}
export async function resolve(specifier, context, next) {
  if (context.parentURL?.endsWith('.ts') && /^\\.\\.?\\//.test(specifier) && !/\\.[cm]?[jt]s$/.test(specifier)) {
    for (const ext of ['.ts', '/index.ts']) {
      try {
        return await next(specifier + ext, context);
      } catch {}
    }
  }
  return next(specifier, context);
}
export async function load(url, context, next) {
  if (!url.startsWith('file:') || !url.endsWith('.ts')) return next(url, context);
  const source = readFileSync(new URL(url), 'utf8');
  const out = esbuild.transformSync(source, { loader: 'ts', format: 'esm', target: 'es2022', sourcefile: url, sourcemap: 'inline' });
  return { format: 'module', source: out.code, shortCircuit: true };
}
`;

const esbuildUrl = pathToFileURL(createRequire(import.meta.url).resolve('esbuild')).href;
register(`data:text/javascript,${encodeURIComponent(hooks)}`, { data: { esbuildUrl } });
await import(new URL('./readerWorker.ts', import.meta.url).href);

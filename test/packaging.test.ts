// The built packages as an app gets them from npm (dist/ and package.json only, through the
// workspace links in node_modules/@callmetry): every exports-map path exists, `import` and
// `require` both load, TypeScript accepts an ES module consumer and a CommonJS one (node16), the
// adapters import nothing but core at runtime, and a bundler keeps the drop-in script's globals.
// `npm test` builds first; run `npm run build` before running this file alone.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { runInNewContext } from 'node:vm';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Each package and one runtime export an app calls (what its README starts with). */
const PACKAGES: Array<{ name: string; folder: string; entry: string }> = [
  { name: '@callmetry/core', folder: 'core', entry: 'createMonitor' },
  { name: '@callmetry/sipjs', folder: 'sipjs', entry: 'attachSipJs' },
  { name: '@callmetry/jssip', folder: 'jssip', entry: 'attachJsSip' },
  { name: '@callmetry/janus', folder: 'janus', entry: 'attachJanus' },
  { name: '@callmetry/mediasoup', folder: 'mediasoup', entry: 'attachMediasoup' },
  { name: '@callmetry/twilio', folder: 'twilio', entry: 'attachTwilio' },
  { name: '@callmetry/collector', folder: 'collector', entry: 'startCollector' },
];

interface Manifest {
  name: string;
  sideEffects?: boolean | string[];
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  exports: Record<string, unknown>;
}
const manifest = (folder: string): Manifest => JSON.parse(readFileSync(join(REPO_ROOT, 'packages', folder, 'package.json'), 'utf8')) as Manifest;

/** Every file path in an exports map (conditions nested or not). */
function exportPaths(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (value && typeof value === 'object') return Object.values(value).flatMap(exportPaths);
  return [];
}

// Consumers live in a folder inside the repo so that they resolve @callmetry/* like an app does.
const consumers = mkdtempSync(join(REPO_ROOT, 'node_modules', '.callmetry-consumers-'));
afterAll(() => rmSync(consumers, { recursive: true, force: true }));

describe('built packages', () => {
  it.each(PACKAGES)('$name: every exports-map path is built', ({ folder }) => {
    const m = manifest(folder);
    const paths = exportPaths(m.exports);
    expect(paths.length).toBeGreaterThan(0);
    const missing = paths.filter((p) => !existsSync(join(REPO_ROOT, 'packages', folder, p)));
    expect(missing, `missing in packages/${folder} (run npm run build)`).toEqual([]);
  });

  it.each(PACKAGES)('$name: import and require both load it', ({ name, entry }) => {
    const esm = execFileSync(process.execPath, ['--input-type=module', '-e', `import * as m from '${name}'; console.log(typeof m.${entry});`], { cwd: consumers, encoding: 'utf8' });
    const cjs = execFileSync(process.execPath, ['-e', `console.log(typeof require('${name}').${entry});`], { cwd: consumers, encoding: 'utf8' });
    expect([esm.trim(), cjs.trim()]).toEqual(['function', 'function']);
  });

  it('TypeScript (node16) accepts an ES module consumer and a CommonJS one of every package', () => {
    const uses = PACKAGES.map(({ name, entry }, i) => ({ line: (kind: 'import' | 'require') => (kind === 'import' ? `import { ${entry} as e${i} } from '${name}';` : `import e${i} = require('${name}');`), check: `typeof e${i}` }));
    writeFileSync(join(consumers, 'esm.mts'), `${uses.map((u) => u.line('import')).join('\n')}\nexport const all = [${uses.map((u) => u.check).join(', ')}];\n`);
    writeFileSync(join(consumers, 'cjs.cts'), `${uses.map((u) => u.line('require')).join('\n')}\nexport const all = [${uses.map((u) => u.check).join(', ')}];\n`);
    const program = ts.createProgram([join(consumers, 'esm.mts'), join(consumers, 'cjs.cts')], {
      module: ts.ModuleKind.Node16, // TypeScript 5.8+ lets nodenext require() ES modules (as Node 22 does); node16 does not, as Node 20 does not
      moduleResolution: ts.ModuleResolutionKind.Node16,
      target: ts.ScriptTarget.ES2022,
      strict: true,
      noEmit: true,
      skipLibCheck: true, // @types/node 20.9 vs TypeScript 5.9's lib; the errors that matter (TS1479...) are at the imports
      types: ['node'],
      typeRoots: [join(REPO_ROOT, 'node_modules', '@types')],
      lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
    });
    const problems = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    expect(problems).toEqual([]);
  });

  it('core has no runtime dependency; each adapter needs only core, as a peer, and its build imports nothing else', () => {
    expect(manifest('core').dependencies ?? {}).toEqual({});
    expect(manifest('core').peerDependencies ?? {}).toEqual({});
    for (const { folder } of PACKAGES.filter((p) => !['core', 'collector'].includes(p.folder))) {
      const m = manifest(folder);
      expect(m.dependencies ?? {}, folder).toEqual({});
      expect(Object.keys(m.peerDependencies ?? {}), folder).toEqual(['@callmetry/core']);
      for (const file of ['index.mjs', 'index.cjs']) {
        const code = readFileSync(join(REPO_ROOT, 'packages', folder, 'dist', file), 'utf8');
        const specifiers = [...code.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)['"]([^'"]+)['"]/g)].map((x) => x[1]);
        expect(new Set(specifiers), `${folder}/dist/${file}`).toEqual(new Set(['@callmetry/core']));
      }
    }
    for (const file of ['index.mjs', 'index.cjs']) {
      const code = readFileSync(join(REPO_ROOT, 'packages', 'core', 'dist', file), 'utf8');
      expect(code).not.toMatch(/\bfrom\s*['"]|\brequire\s*\(\s*['"]/);
    }
  });

  it("a bundler keeps `import '@callmetry/core/callstats.min.js'` (its globals) and still tree-shakes the typed API", async () => {
    const dropIn = await esbuild.build({ stdin: { contents: "import '@callmetry/core/callstats.min.js';", resolveDir: consumers }, bundle: true, write: false, format: 'iife', logLevel: 'silent' });
    const sandbox: Record<string, unknown> = {};
    sandbox.window = sandbox;
    runInNewContext(dropIn.outputFiles[0]!.text, sandbox);
    expect([typeof sandbox.callstats, typeof sandbox.Callmetry]).toEqual(['function', 'object']);
    expect(dropIn.warnings.map((w) => w.text)).toEqual([]);

    // Unused exports still go: an app using only createMonitor does not ship the callstats.js facade.
    const typed = await esbuild.build({ stdin: { contents: "export { createMonitor } from '@callmetry/core';", resolveDir: consumers }, bundle: true, write: false, format: 'esm', minify: true, logLevel: 'silent' });
    const whole = await esbuild.build({ stdin: { contents: "export * from '@callmetry/core';", resolveDir: consumers }, bundle: true, write: false, format: 'esm', minify: true, logLevel: 'silent' });
    expect(typed.outputFiles[0]!.text.length).toBeLessThan(whole.outputFiles[0]!.text.length * 0.95);
  });
});

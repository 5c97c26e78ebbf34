// Read-only static files: the dashboard, chart.js, and (with --serve-examples) the repo's
// examples/ and packages/ folders. No directory traversal: every path segment is checked and the
// resolved real path must stay inside its root.
import { createReadStream, promises as fsp } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.cjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
  '.ts': 'text/plain; charset=utf-8',
  '.wav': 'audio/wav',
  '.webm': 'video/webm',
  '.y4m': 'application/octet-stream',
};

export interface StaticRoot {
  dir: string;
  /** Path segments refused anywhere below the root (besides dot-files and ".."). */
  deny?: readonly string[];
  /** List a directory without index.html. */
  listings?: boolean;
  /** Extra headers (e.g. a CSP for the dashboard). */
  headers?: Record<string, string>;
}

export type StaticResult = 'served' | 'not_found' | 'forbidden' | 'bad_request';

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Serves `rel` (the URL path below the root's prefix, still percent-encoded) from `root`. */
export async function serveStatic(
  req: IncomingMessage,
  res: ServerResponse,
  root: StaticRoot,
  rel: string,
  urlPath: string,
): Promise<StaticResult> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(rel);
  } catch {
    return 'bad_request';
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return 'bad_request';
  const segments = decoded.split('/').filter((s) => s !== '');
  for (const s of segments) {
    if (s === '..' || s.startsWith('.') || root.deny?.includes(s)) return 'forbidden';
  }
  let realRoot: string;
  let real: string;
  try {
    realRoot = await fsp.realpath(root.dir);
    real = await fsp.realpath(join(realRoot, ...segments));
  } catch {
    return 'not_found';
  }
  if (real !== realRoot && !real.startsWith(realRoot + sep)) return 'forbidden';
  let st = await fsp.stat(real).catch(() => null);
  if (!st) return 'not_found';
  if (st.isDirectory()) {
    if (!urlPath.endsWith('/')) {
      res.writeHead(301, { Location: `${urlPath}/` });
      res.end();
      return 'served';
    }
    const index = join(real, 'index.html');
    const ist = await fsp.stat(index).catch(() => null);
    if (ist?.isFile()) {
      real = index;
      st = ist;
    } else if (root.listings) {
      const entries = (await fsp.readdir(real, { withFileTypes: true }))
        .filter((e) => !e.name.startsWith('.') && !root.deny?.includes(e.name))
        .sort((a, b) => a.name.localeCompare(b.name));
      const body =
        `<!doctype html><meta charset="utf-8"><title>${escapeHtml(urlPath)}</title><h1>${escapeHtml(urlPath)}</h1><ul>` +
        entries
          .map((e) => {
            const name = e.name + (e.isDirectory() ? '/' : '');
            return `<li><a href="${escapeHtml(encodeURIComponent(e.name) + (e.isDirectory() ? '/' : ''))}">${escapeHtml(name)}</a></li>`;
          })
          .join('') +
        '</ul>';
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-cache', ...root.headers });
      res.end(req.method === 'HEAD' ? undefined : body);
      return 'served';
    } else {
      return 'not_found';
    }
  }
  if (!st.isFile()) return 'not_found';
  res.writeHead(200, {
    'Content-Type': TYPES[extname(real).toLowerCase()] ?? 'application/octet-stream',
    'Content-Length': String(st.size),
    'Cache-Control': 'no-cache',
    'X-Content-Type-Options': 'nosniff',
    ...root.headers,
  });
  if (req.method === 'HEAD') {
    res.end();
    return 'served';
  }
  await new Promise<void>((resolve) => {
    const stream = createReadStream(real);
    stream.on('error', () => {
      res.destroy();
      resolve();
    });
    stream.on('end', () => resolve());
    stream.pipe(res);
  });
  return 'served';
}

/** Serves one known file (e.g. chart.js). */
export async function serveFile(req: IncomingMessage, res: ServerResponse, file: string, headers: Record<string, string> = {}): Promise<boolean> {
  const st = await fsp.stat(file).catch(() => null);
  if (!st?.isFile()) return false;
  res.writeHead(200, {
    'Content-Type': TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
    'Content-Length': String(st.size),
    'Cache-Control': 'public, max-age=3600',
    'X-Content-Type-Options': 'nosniff',
    ...headers,
  });
  if (req.method === 'HEAD') {
    res.end();
    return true;
  }
  createReadStream(file).on('error', () => res.destroy()).pipe(res);
  return true;
}

// Tiny HTTP server on 127.0.0.1 for tests: pages and bundles for Chromium, fixtures, and a
// `server` to attach WebSocket servers to (signaling, collector). No vitest import here, so
// scripts outside vitest (bench, examples) can use it too. Re-exported by ./browser.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';

export type RouteHandler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;
/** Fixed content (type guessed from the path's extension unless given) or a request handler. */
export type Route =
  | string
  | Uint8Array
  | { body: string | Uint8Array; type?: string; headers?: Record<string, string> }
  | RouteHandler;

export interface HttpServerOptions {
  /** Folder served for paths with no route (index.html for folders). */
  root?: string;
  /** Exact-path routes, checked before `root`. */
  routes?: Record<string, Route>;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (random free port). */
  port?: number;
}

export interface HttpServer {
  /** The node server: attach e.g. `new WebSocketServer({ server })` to it. */
  readonly server: Server;
  readonly host: string;
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  /** Absolute URL of a path on this server. */
  url(path?: string): string;
  /** Add or replace an exact-path route. */
  route(path: string, route: Route): void;
  /** Closes the server and destroys every open connection (including upgraded ones). */
  close(): Promise<void>;
}

export const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
};
const mimeOf = (path: string): string => MIME[extname(path).toLowerCase()] ?? 'application/octet-stream';

/** Start a small HTTP server on 127.0.0.1 (random port) serving `routes` and/or a `root` folder. */
export async function startHttpServer(options: HttpServerOptions = {}): Promise<HttpServer> {
  const host = options.host ?? '127.0.0.1';
  const routes = new Map<string, Route>(Object.entries(options.routes ?? {}));
  const root = options.root ? resolve(options.root) : undefined;
  const sockets = new Set<Socket>();

  const send = (res: ServerResponse, status: number, body: string | Uint8Array | Buffer, type: string, headers = {}): void => {
    res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', ...headers });
    res.end(body);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const route = routes.get(pathname);
    if (typeof route === 'function') return route(req, res);
    if (typeof route === 'string' || route instanceof Uint8Array) return send(res, 200, route, mimeOf(pathname));
    if (route) return send(res, 200, route.body, route.type ?? mimeOf(pathname), route.headers);
    if (root && (req.method === 'GET' || req.method === 'HEAD')) {
      let file = resolve(root, `.${pathname}`);
      if (file !== root && !file.startsWith(root + sep)) return send(res, 403, 'forbidden', 'text/plain');
      const st = await stat(file).catch(() => undefined);
      if (st?.isDirectory()) file = join(file, 'index.html');
      const data = await readFile(file).catch(() => undefined);
      if (data) return send(res, 200, data, mimeOf(file));
    }
    // Browsers ask for it on their own; a 404 would show up as a console error in every page.
    if (pathname === '/favicon.ico') return send(res, 204, '', 'image/x-icon');
    send(res, 404, `not found: ${pathname}`, 'text/plain; charset=utf-8');
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) send(res, 500, String(e), 'text/plain; charset=utf-8');
      else res.destroy();
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((ok, ko) => {
    server.once('error', ko);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', ko);
      ok();
    });
  });
  const addr = server.address();
  if (!addr || typeof addr === 'string') throw new Error('startHttpServer: no TCP address');
  const origin = `http://${host.includes(':') ? `[${host}]` : host}:${addr.port}`;

  return {
    server,
    host,
    port: addr.port,
    origin,
    url: (path = '/') => new URL(path, origin).href,
    route: (path, r) => void routes.set(path, r),
    close: () =>
      new Promise<void>((ok) => {
        for (const s of sockets) s.destroy();
        server.close(() => ok());
      }),
  };
}

/** Serve a folder (e.g. a package's dashboard or examples) on 127.0.0.1. */
export function serveStatic(root: string, options: Omit<HttpServerOptions, 'root'> = {}): Promise<HttpServer> {
  return startHttpServer({ ...options, root });
}

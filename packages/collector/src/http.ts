// Small HTTP helpers: JSON answers, bounded body reading, CORS.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { clip } from './text';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  sendJsonText(res, status, JSON.stringify(body), headers);
}

/** sendJson for a body already serialized (a string, or its UTF-8 bytes). */
export function sendJsonText(res: ServerResponse, status: number, text: string | Uint8Array, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': String(typeof text === 'string' ? Buffer.byteLength(text) : text.byteLength),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    ...headers,
  });
  res.end(text);
}

export function sendError(res: ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}): void {
  sendJson(res, status, { error: code, message }, headers);
}

/** What of an oversized body is read (and dropped) after the 413 so the connection stays usable. */
const DRAIN_LIMIT = 16 * 1024 * 1024;
/** How long a connection being closed after a 413 keeps reading (and dropping) what still arrives. */
const LINGER_MS = 2000;

/**
 * Closes a connection whose client may still be sending: our side ends first (after the answer)
 * and what still arrives is read and dropped until the client closes too, or LINGER_MS pass.
 * Destroying the socket at once would make the kernel answer the client's data with a reset, and
 * a reset makes the client drop the answer it has not read yet (ECONNRESET, EPIPE).
 */
function closeGracefully(socket: Socket): void {
  if (socket.destroyed) return;
  const timer = setTimeout(() => socket.destroy(), LINGER_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
  socket.end();
}

/**
 * Reads a request body of at most `limit` bytes. Over the limit (declared or counted): throws
 * HttpError 413 at once, for the caller to answer while the client may still be sending. The rest
 * of the body is read and dropped, up to 16 MiB in all: the connection then stays usable. Beyond
 * that the connection is closed gracefully once `res` is sent (see closeGracefully).
 */
export function readBody(req: IncomingMessage, res: ServerResponse, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    const chunks: Uint8Array[] = [];
    let size = 0;
    let settled = false;
    let closing = false;
    // No `Connection: close` on this 413: Node would destroy the socket as soon as the answer is
    // written, with the client still sending (the reset above). closeGracefully ends it instead.
    const tooLarge = (): void => {
      if (settled) return;
      settled = true;
      chunks.length = 0;
      reject(new HttpError(413, 'too_large', `the body is over the limit of ${limit} bytes; send smaller batches`));
    };
    const closeAfterAnswer = (): void => {
      if (closing) return;
      closing = true;
      if (res.writableFinished) closeGracefully(req.socket);
      else res.once('finish', () => closeGracefully(req.socket));
    };
    if (Number.isFinite(declared) && declared > limit) {
      tooLarge();
      if (declared > DRAIN_LIMIT) closeAfterAnswer();
    }
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) tooLarge();
      if (settled) {
        if (size > DRAIN_LIMIT) closeAfterAnswer();
        return;
      }
      chunks.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    });
    req.on('end', () => {
      if (settled) return;
      settled = true;
      resolve(Buffer.concat(chunks));
    });
    req.on('error', (e) => {
      if (settled) return;
      settled = true;
      reject(new HttpError(400, 'bad_request', `could not read the body: ${e.message}`));
    });
  });
}

export function parseJsonBody(buf: Buffer): unknown {
  const text = buf.toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new HttpError(400, 'bad_json', `the body is not valid JSON (${clip(e instanceof Error ? e.message : 'parse error')})`);
  }
}

/** CORS for the SDK's endpoints: any origin, no cookies (tokens travel explicitly). */
export function corsHeaders(req: IncomingMessage): Record<string, string> {
  const origin = req.headers.origin;
  return {
    'Access-Control-Allow-Origin': typeof origin === 'string' && origin !== '' ? origin : '*',
    Vary: 'Origin',
  };
}

export function preflightHeaders(req: IncomingMessage): Record<string, string> {
  return {
    ...corsHeaders(req),
    'Access-Control-Allow-Methods': 'POST, OPTIONS',
    'Access-Control-Allow-Headers': 'Content-Type, Authorization',
    'Access-Control-Max-Age': '600',
  };
}

/**
 * The client's address: the socket's peer, or with `trustProxy` the last X-Forwarded-For entry
 * (the one the proxy in front appended; earlier entries are whatever the client sent).
 */
export function clientAddress(req: IncomingMessage, trustProxy = false): string {
  const forwarded = trustProxy ? req.headers['x-forwarded-for'] : undefined;
  const last = (Array.isArray(forwarded) ? forwarded.join(',') : forwarded)?.split(',').pop()?.trim();
  return last || (req.socket.remoteAddress ?? 'unknown');
}

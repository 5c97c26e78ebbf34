// Small HTTP helpers: JSON answers, bounded body reading, CORS.
import type { IncomingMessage, ServerResponse } from 'node:http';

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
  if (res.headersSent) {
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(text)),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    ...headers,
  });
  res.end(text);
}

export function sendError(res: ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}): void {
  sendJson(res, status, { error: code, message }, headers);
}

/** Hard cap on what we read (and discard) of an oversized body before closing the connection. */
const DRAIN_LIMIT = 16 * 1024 * 1024;

/**
 * Reads a request body of at most `limit` bytes. Over the limit: throws HttpError 413 (after
 * draining up to 16 MiB so the client can read the answer; beyond that the connection is closed).
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    let tooLarge = Number.isFinite(declared) && declared > limit;
    const chunks: Uint8Array[] = [];
    let size = 0;
    let settled = false;
    const tooLargeError = (): HttpError =>
      new HttpError(413, 'too_large', `the body is over the limit of ${limit} bytes; send smaller batches`, { Connection: 'close' });
    if (tooLarge && declared > DRAIN_LIMIT) {
      settled = true;
      reject(tooLargeError());
      req.resume();
      return;
    }
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) tooLarge = true;
      if (tooLarge) {
        chunks.length = 0;
        if (size > DRAIN_LIMIT && !settled) {
          settled = true;
          reject(tooLargeError());
          req.destroy();
        }
        return;
      }
      chunks.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    });
    req.on('end', () => {
      if (settled) return;
      settled = true;
      if (tooLarge) reject(tooLargeError());
      else resolve(Buffer.concat(chunks));
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
    throw new HttpError(400, 'bad_json', `the body is not valid JSON (${e instanceof Error ? e.message : 'parse error'})`);
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

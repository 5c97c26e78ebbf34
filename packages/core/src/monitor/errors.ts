import type { ErrorCategory, WebRTCFunction } from '../types';
import { webRTCFunctions } from '../callstats/enums';

/** callstats.js capped application logs; so do we. */
export const MAX_APPLICATION_LOG_BYTES = 20 * 1024;

const KNOWN_FUNCTIONS = new Set<string>(Object.values(webRTCFunctions));

export function isWebRTCFunction(value: unknown): value is WebRTCFunction {
  return typeof value === 'string' && KNOWN_FUNCTIONS.has(value);
}

/** Classifies a failure the way callstats.js did, from the failing function and the fabric's history. */
export function classifyFailure(fn: WebRTCFunction, wasEstablished: boolean): ErrorCategory {
  switch (fn) {
    case 'createOffer':
    case 'createAnswer':
    case 'setRemoteDescription':
      return 'negotiationFailure';
    case 'setLocalDescription':
    case 'addIceCandidate':
      return 'sdpGeneration';
    case 'getUserMedia':
      return 'mediaConfiguration';
    case 'iceConnectionFailure':
      return wasEstablished ? 'iceFailureAfterSetup' : 'iceFailureBeforeSetup';
    case 'signalingError':
      return 'signalingError';
    case 'applicationError':
      return 'applicationError';
    case 'applicationLog':
      return 'applicationLog';
    default:
      return 'applicationError';
  }
}

export interface NormalizedError {
  name?: string;
  message: string;
  truncated?: boolean;
}

function utf8Length(text: string): number {
  return typeof TextEncoder !== 'undefined' ? new TextEncoder().encode(text).length : text.length;
}

/** Cuts a string to at most `maxBytes` UTF-8 bytes without splitting a character. */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (utf8Length(text) <= maxBytes) return text;
  let low = 0;
  let high = Math.min(text.length, maxBytes);
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (utf8Length(text.slice(0, mid)) <= maxBytes) low = mid;
    else high = mid - 1;
  }
  return text.slice(0, low);
}

/**
 * Accepts Error objects, DOMExceptions, strings and anything else an app may pass, and never throws
 * (even for objects with throwing getters).
 */
export function normalizeError(error: unknown, fn: WebRTCFunction): NormalizedError {
  let name: string | undefined;
  let message: string;
  try {
    if (typeof error === 'string') {
      message = error;
    } else if (error && typeof error === 'object') {
      const e = error as { name?: unknown; message?: unknown };
      name = typeof e.name === 'string' ? e.name : undefined;
      if (typeof e.message === 'string') message = e.message;
      else {
        try {
          message = JSON.stringify(error) ?? String(error);
        } catch {
          message = String(error);
        }
      }
    } else if (error === undefined || error === null) {
      message = `${fn} failed (no error given)`;
    } else {
      message = String(error);
    }
  } catch {
    message = `${fn} failed (the error could not be read)`;
  }
  if (fn === 'applicationLog' && utf8Length(message) > MAX_APPLICATION_LOG_BYTES) {
    return { ...(name ? { name } : {}), message: truncateUtf8(message, MAX_APPLICATION_LOG_BYTES), truncated: true };
  }
  return { ...(name ? { name } : {}), message };
}

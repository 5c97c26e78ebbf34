import type { ErrorCategory, WebRTCFunction } from '../types';
import { webRTCFunctions } from '../callstats/enums';
import { hasOwn, isString, printable, utf8Length, type Json } from '../util/values';

/** callstats.js capped application logs; so do we. */
export const MAX_APPLICATION_LOG_BYTES = 20 * 1024;
/** Other errors' messages and names, and each SDP, are capped so that an error item fits the wire (1 MiB). */
export const MAX_ERROR_MESSAGE_BYTES = 64 * 1024;
export const MAX_SDP_BYTES = 256 * 1024;
const MAX_ERROR_NAME_BYTES = 1024;

/** A failure message for anything but a webRTCFunctions value. */
export const checkWebRTCFunction = (fn: unknown): string | undefined =>
  isString(fn) && hasOwn(webRTCFunctions, fn) ? undefined : `Invalid webRTC functionName value ${printable(fn)}`;

const CATEGORIES: Partial<Record<WebRTCFunction, ErrorCategory>> = {
  createOffer: 'negotiationFailure',
  createAnswer: 'negotiationFailure',
  setRemoteDescription: 'negotiationFailure',
  setLocalDescription: 'sdpGeneration',
  addIceCandidate: 'sdpGeneration',
  getUserMedia: 'mediaConfiguration',
};

/**
 * Classifies a failure the way callstats.js did, from the failing function and the fabric's history.
 * signalingError, applicationError and applicationLog are their own categories.
 */
export function classifyFailure(fn: WebRTCFunction, wasEstablished: boolean): ErrorCategory {
  if (fn == 'iceConnectionFailure') return wasEstablished ? 'iceFailureAfterSetup' : 'iceFailureBeforeSetup';
  return CATEGORIES[fn] ?? (fn as ErrorCategory);
}

/** Cuts a string to at most `maxBytes` UTF-8 bytes without splitting a character. */
export const truncateUtf8 = (text: string, maxBytes: number): string =>
  // stream: an incomplete last character is held back rather than decoded as U+FFFD.
  new TextDecoder().decode(new TextEncoder().encode(text).subarray(0, maxBytes), { stream: true });

/**
 * Accepts Error objects, DOMExceptions, strings and anything else an app may pass, and never throws
 * (even for objects with throwing getters). Application logs are capped at 20 KB.
 */
/** `truncated`: what was cut, for the caller's answer (e.g. "applicationLog truncated to 20 KB"). */
export function normalizeError(error: unknown, fn: WebRTCFunction): { name?: string; message: string; truncated?: string } {
  let name: unknown;
  let message: unknown;
  try {
    if (error == null) message = `${fn} failed (no error given)`;
    else if (typeof error == 'object') {
      ({ name, message } = error as Json);
      if (!isString(message)) {
        try {
          message = JSON.stringify(error);
        } catch {}
        if (!isString(message)) message = printable(error);
      }
    } else message = printable(error);
  } catch {
    message = `${fn} failed (the error could not be read)`;
  }
  const out: { name?: string; message: string; truncated?: string } = { message: isString(message) ? message : printable(message) };
  if (isString(name) && name) out.name = utf8Length(name) > MAX_ERROR_NAME_BYTES ? truncateUtf8(name, MAX_ERROR_NAME_BYTES) : name;
  const appLog = fn == 'applicationLog';
  const max = appLog ? MAX_APPLICATION_LOG_BYTES : MAX_ERROR_MESSAGE_BYTES;
  if (utf8Length(out.message) > max) {
    out.message = truncateUtf8(out.message, max);
    out.truncated = `${appLog ? 'applicationLog' : 'error message'} truncated to ${max / 1024} KB`;
  }
  return out;
}

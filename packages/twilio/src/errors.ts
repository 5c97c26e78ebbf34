/**
 * Twilio Video error codes (twilio-video's TwilioError subclasses, lib/util/twilio-video-errors.js)
 * mapped to callstats.js's webRTCFunctions. The table is repeated in the README.
 */
import type { WebRTCFunction } from '@callmetry/core';
import type { TwilioErrorLike } from './types';

/** DOMException names getUserMedia rejects with (createLocalTracks / createLocalAudioTrack ...). */
const GET_USER_MEDIA_ERRORS = new Set([
  'NotAllowedError',
  'NotFoundError',
  'NotReadableError',
  'OverconstrainedError',
  'AbortError',
  'SecurityError',
  'PermissionDeniedError',
  'DevicesNotFoundError',
  'TrackStartError',
]);

/** The webRTCFunction a Twilio error is reported as. */
export function twilioErrorFunction(error: TwilioErrorLike | null | undefined): WebRTCFunction {
  const code = typeof error?.code === 'number' ? error.code : undefined;
  if (code === undefined) {
    const name = typeof error?.name === 'string' ? error.name : '';
    return GET_USER_MEDIA_ERRORS.has(name) ? 'getUserMedia' : 'applicationLog';
  }
  if (code >= 20101 && code <= 20199) return 'signalingError'; // access token
  if (code >= 53000 && code <= 53099) return 'signalingError'; // signaling connection
  if (code === 53118) return 'applicationLog'; // Room completed: an ending, not a failure
  if (code >= 53100 && code <= 53199) return 'signalingError'; // Room
  if (code >= 53200 && code <= 53299) return 'signalingError'; // Participant
  if (code >= 53300 && code <= 53399) return 'applicationError'; // Track
  if (code === 53400) return 'setLocalDescription';
  if (code === 53402 || code === 53404) return 'setRemoteDescription';
  if (code === 53401 || code === 53403) return 'signalingError'; // the server's description failed
  if (code >= 53405 && code <= 53499) return 'iceConnectionFailure'; // media connection, DTLS
  if (code === 53501) return 'iceConnectionFailure'; // TURN credentials
  if (code >= 53500 && code <= 53599) return 'signalingError'; // configuration
  if (code >= 53600 && code <= 53699) return 'applicationError'; // DataTrack
  return 'applicationLog';
}

/** The error as core records it: `name` kept, message prefixed with the Twilio code. */
export function describeTwilioError(error: TwilioErrorLike | null | undefined): { name: string; message: string } {
  let name = 'Error';
  let message = '';
  let code: number | undefined;
  try {
    if (error && typeof error === 'object') {
      if (typeof error.name === 'string' && error.name) name = error.name;
      if (typeof error.message === 'string') message = error.message;
      if (typeof error.code === 'number') code = error.code;
    } else if (error !== undefined && error !== null) {
      message = String(error);
    }
  } catch {
    message = 'the error could not be read';
  }
  return { name, message: code !== undefined ? `Twilio ${code}: ${message}` : message || 'unknown error' };
}

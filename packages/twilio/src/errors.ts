/**
 * Twilio Video error codes (twilio-video's TwilioError subclasses, lib/util/twilio-video-errors.js)
 * mapped to callstats.js's webRTCFunctions. The table is repeated in the README:
 *   20101-20199 access token, 53000-53099 signaling, 53100-53299 Room/Participant: signalingError
 *   (53118 Room completed: applicationLog, an ending); 53300-53399 Track, 53600-53699 DataTrack:
 *   applicationError; 53400 setLocalDescription; 53402, 53404 setRemoteDescription; 53401, 53403
 *   (the server's description failed) and 53500, 53502-53599 (configuration): signalingError;
 *   53405-53499 (media connection, DTLS) and 53501 (TURN credentials): iceConnectionFailure.
 *   No code: getUserMedia's DOMException names -> getUserMedia. Anything else: applicationLog.
 */
import type { WebRTCFunction } from '@callmetry/core';
import type { TwilioErrorLike } from './types';

const S = 'signalingError';
/** DOMException names getUserMedia rejects with (createLocalTracks ...), legacy Chrome names too. */
const GUM = /^(NotAllowed|NotFound|NotReadable|Overconstrained|Abort|Security|PermissionDenied|DevicesNotFound|TrackStart)Error$/;

/** The webRTCFunction a Twilio error is reported as. */
export function twilioErrorFunction(error: TwilioErrorLike | null | undefined): WebRTCFunction {
  const code = error?.code;
  if (typeof code != 'number') return GUM.test(String(error?.name)) ? 'getUserMedia' : 'applicationLog';
  const c = code - 53000;
  return code > 20100 && code < 20200
    ? S
    : c == 118 || !(c >= 0 && c < 700)
      ? 'applicationLog'
      : c < 300
        ? S
        : c < 400 || c >= 600
          ? 'applicationError'
          : c == 400
            ? 'setLocalDescription'
            : c == 402 || c == 404
              ? 'setRemoteDescription'
              : c == 401 || c == 403 || (c >= 500 && c != 501)
                ? S
                : 'iceConnectionFailure';
}

/** `{code, name, message}` of an error (a Twilio error's fields; undefined for anything else). */
export function errorInfo(error: unknown): TwilioErrorLike & Record<string, unknown> {
  const { code, name, message } = Object(error) as TwilioErrorLike;
  return { code, name, message };
}

/** The error as core records it: a Twilio error's message prefixed with its code; others as they are. */
export function describeTwilioError(error: unknown): unknown {
  const e = error as TwilioErrorLike | undefined;
  return typeof e?.code == 'number' ? { name: e.name, message: `Twilio ${e.code}: ${e.message ?? ''}` } : error;
}

/**
 * How each JsSIP end/failure cause (`JsSIP.C.causes`, the `cause` of a session's `ended` and
 * `failed` events) is reported. The table is documented in the package README.
 */
import type { JsSipCauseReport } from './types';

/** JsSIP 3.13's `JsSIP.C.causes` values (the texts, which are what the events carry). */
export const JSSIP_CAUSES = {
  CONNECTION_ERROR: 'Connection Error',
  REQUEST_TIMEOUT: 'Request Timeout',
  SIP_FAILURE_CODE: 'SIP Failure Code',
  INTERNAL_ERROR: 'Internal Error',
  BUSY: 'Busy',
  REJECTED: 'Rejected',
  REDIRECTED: 'Redirected',
  UNAVAILABLE: 'Unavailable',
  NOT_FOUND: 'Not Found',
  ADDRESS_INCOMPLETE: 'Address Incomplete',
  INCOMPATIBLE_SDP: 'Incompatible SDP',
  MISSING_SDP: 'Missing SDP',
  AUTHENTICATION_ERROR: 'Authentication Error',
  BYE: 'Terminated',
  WEBRTC_ERROR: 'WebRTC Error',
  CANCELED: 'Canceled',
  NO_ANSWER: 'No Answer',
  EXPIRES: 'Expires',
  NO_ACK: 'No ACK',
  DIALOG_ERROR: 'Dialog Error',
  USER_DENIED_MEDIA_ACCESS: 'User Denied Media Access',
  BAD_MEDIA_DESCRIPTION: 'Bad Media Description',
  RTP_TIMEOUT: 'RTP Timeout',
} as const;

const C = JSSIP_CAUSES;

/** The default report of every known cause. Unknown causes are reported as `applicationLog`. */
export const JSSIP_CAUSE_REPORTS: Readonly<Record<string, JsSipCauseReport>> = Object.freeze({
  // Nobody answered: the call did not happen, but nothing is broken.
  [C.BUSY]: 'callUnAnswered',
  [C.REJECTED]: 'callUnAnswered',
  [C.CANCELED]: 'callUnAnswered',
  [C.NO_ANSWER]: 'callUnAnswered',
  [C.UNAVAILABLE]: 'callUnAnswered',
  [C.EXPIRES]: 'callUnAnswered',
  // SIP itself failed: routing, transport, transactions, dialogs, offer/answer at the SIP level.
  [C.NOT_FOUND]: 'signalingError',
  [C.ADDRESS_INCOMPLETE]: 'signalingError',
  [C.AUTHENTICATION_ERROR]: 'signalingError',
  [C.INCOMPATIBLE_SDP]: 'signalingError',
  [C.MISSING_SDP]: 'signalingError',
  [C.BAD_MEDIA_DESCRIPTION]: 'signalingError',
  [C.REQUEST_TIMEOUT]: 'signalingError',
  [C.CONNECTION_ERROR]: 'signalingError',
  [C.SIP_FAILURE_CODE]: 'signalingError',
  [C.DIALOG_ERROR]: 'signalingError',
  [C.NO_ACK]: 'signalingError',
  // JsSIP threw inside answer().
  [C.INTERNAL_ERROR]: 'applicationError',
  // The real error is reported on its own (getUserMedia, createOffer, ..., ICE by core): the
  // cause only says why the call ended.
  [C.USER_DENIED_MEDIA_ACCESS]: 'applicationLog',
  [C.WEBRTC_ERROR]: 'applicationLog',
  [C.RTP_TIMEOUT]: 'applicationLog',
  // A 3xx: the app may follow it with a new call.
  [C.REDIRECTED]: 'applicationLog',
  // A normal BYE.
  [C.BYE]: 'none',
});

const REPORTS = new Set<string>(['callUnAnswered', 'signalingError', 'applicationError', 'applicationLog', 'none']);

/** The report of `cause`: the app's override, else the default table, else `applicationLog`. */
export function jssipCauseReport(
  cause: string | undefined,
  overrides?: Partial<Record<string, JsSipCauseReport>>,
): JsSipCauseReport {
  const key = typeof cause === 'string' ? cause : '';
  const own = overrides && Object.prototype.hasOwnProperty.call(overrides, key) ? overrides[key] : undefined;
  if (typeof own === 'string' && REPORTS.has(own)) return own;
  return Object.prototype.hasOwnProperty.call(JSSIP_CAUSE_REPORTS, key) ? (JSSIP_CAUSE_REPORTS[key] as JsSipCauseReport) : 'applicationLog';
}

/**
 * How the final non-2xx response to an outgoing call's initial INVITE is reported (the README's
 * mapping table is this code). Pure functions: no SIP.js, no monitor.
 */
import type { SipFailureCause, SipStatusOutcome } from './types';

const UNANSWERED: Record<number, SipFailureCause> = {
  486: 'busy', // Busy Here
  600: 'busy', // Busy Everywhere
  603: 'declined', // Decline
  607: 'declined', // Unwanted
  608: 'declined', // Rejected
  408: 'noAnswer', // Request Timeout (e.g. the proxy's INVITE timer: nobody answered)
  480: 'noAnswer', // Temporarily Unavailable (callee not answering / unavailable)
  487: 'cancelled', // Request Terminated (CANCEL: the caller hung up while ringing)
};

const SIGNALING: Record<number, SipFailureCause> = {
  404: 'unreachable', // Not Found
  604: 'unreachable', // Does Not Exist Anywhere
  410: 'unreachable', // Gone
  484: 'unreachable', // Address Incomplete
  485: 'unreachable', // Ambiguous
  416: 'unreachable', // Unsupported URI Scheme
  401: 'unauthorized', // Unauthorized (credentials missing or wrong)
  407: 'unauthorized', // Proxy Authentication Required
  403: 'unauthorized', // Forbidden
  488: 'notAcceptable', // Not Acceptable Here (media)
  606: 'notAcceptable', // Not Acceptable
};

/** The outcome of a final status to the initial INVITE (3xx-6xx). */
export function classifySipStatus(statusCode: number): SipStatusOutcome {
  const code = Number.isInteger(statusCode) ? statusCode : 0;
  const unanswered = UNANSWERED[code];
  if (unanswered) return { statusCode: code, cause: unanswered, callUnAnswered: true, webRTCFunction: 'applicationLog' };
  let cause: SipFailureCause = SIGNALING[code] ?? 'failed';
  if (!SIGNALING[code]) {
    if (code >= 300 && code < 400) cause = 'redirected';
    else if (code >= 500 && code < 600) cause = 'serverError';
  }
  return { statusCode: code, cause, callUnAnswered: false, webRTCFunction: 'signalingError' };
}

/** Standard reason phrases (RFC 3261 and friends) for the statuses an app commonly rejects with. */
const REASON_PHRASES: Record<number, string> = {
  300: 'Multiple Choices',
  301: 'Moved Permanently',
  302: 'Moved Temporarily',
  380: 'Alternative Service',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  408: 'Request Timeout',
  410: 'Gone',
  415: 'Unsupported Media Type',
  480: 'Temporarily Unavailable',
  481: 'Call/Transaction Does Not Exist',
  484: 'Address Incomplete',
  486: 'Busy Here',
  487: 'Request Terminated',
  488: 'Not Acceptable Here',
  500: 'Server Internal Error',
  503: 'Service Unavailable',
  600: 'Busy Everywhere',
  603: 'Decline',
  604: 'Does Not Exist Anywhere',
  606: 'Not Acceptable',
  607: 'Unwanted',
  608: 'Rejected',
};

export function reasonPhraseOf(statusCode: number): string | undefined {
  return REASON_PHRASES[statusCode];
}

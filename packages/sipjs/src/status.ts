/**
 * How the final non-2xx response to an outgoing call's initial INVITE is reported (the README's
 * mapping table is this code). Pure: no SIP.js, no monitor.
 */
import type { SipFailureCause, SipStatusOutcome } from './types';

/** `cause status status ...|...`: the statuses of an unanswered call (callUnAnswered + applicationLog). */
const UNANSWERED = 'busy 486 600|declined 603 607 608|noAnswer 408 480|cancelled 487';
/** Signaling failures with a cause of their own; other 3xx are redirected, 5xx serverError, the rest failed. */
const SIGNALING = 'unreachable 404 604 410 484 485 416|unauthorized 401 407 403|notAcceptable 488 606';

/** The outcome of a final status to the initial INVITE (3xx-6xx). */
export function classifySipStatus(statusCode: number): SipStatusOutcome {
  const find = (table: string): string | undefined => RegExp(`(\\w+)[^|]* ${statusCode}\\b`).exec(table)?.[1];
  const unanswered = find(UNANSWERED);
  const cause = unanswered ?? find(SIGNALING) ?? ['redirected', 'failed', 'serverError'][((statusCode / 100) | 0) - 3] ?? 'failed';
  return { statusCode, cause: cause as SipFailureCause, callUnAnswered: !!unanswered, webRTCFunction: unanswered ? 'applicationLog' : 'signalingError' };
}

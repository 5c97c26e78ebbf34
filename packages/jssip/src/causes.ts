/**
 * How each JsSIP end/failure cause (`JsSIP.C.causes`, the `cause` of a session's `ended` and
 * `failed` events) is reported. The table is documented in the package README.
 */
import type { JsSipCauseReport } from './types';

// Report -> its causes, '|'-separated (compact: one string per report). Causes not listed here
// (User Denied Media Access, WebRTC Error, RTP Timeout, Redirected, unknown ones) are
// applicationLog: the real error, if any, is reported on its own.
const TABLE: Record<JsSipCauseReport, string> = {
  // Nobody answered: the call did not happen, but nothing is broken.
  callUnAnswered: 'Busy|Rejected|Canceled|No Answer|Unavailable|Expires',
  // SIP itself failed: routing, transport, transactions, dialogs, offer/answer at the SIP level.
  signalingError:
    'Not Found|Address Incomplete|Authentication Error|Incompatible SDP|Missing SDP|Bad Media Description|Request Timeout|Connection Error|SIP Failure Code|Dialog Error|No ACK',
  // JsSIP threw inside answer().
  applicationError: 'Internal Error',
  applicationLog: '',
  // A normal BYE.
  none: 'Terminated',
};

/** The report of `cause`: the app's override (if a valid report), else the table, else `applicationLog`. */
export function jssipCauseReport(cause: string | undefined, overrides?: Partial<Record<string, JsSipCauseReport>>): JsSipCauseReport {
  const own = overrides?.[cause!];
  if (own && {}.hasOwnProperty.call(TABLE, own)) return own;
  let k: JsSipCauseReport;
  for (k in TABLE) if (cause && TABLE[k].split('|').includes(cause)) return k;
  return 'applicationLog';
}

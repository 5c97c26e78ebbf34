/**
 * Local structural types for JsSIP 3.x (tested with 3.13.8): only the members this adapter reads,
 * listens to or wraps. JsSIP is never imported; its own `UA` and `RTCSession` classes are
 * assignable to these.
 */
import type { MonitoredPeerConnection } from '@callmetry/core';

/** The part of Node's / npm `events` EventEmitter that JsSIP's UA and RTCSession inherit. */
export interface JsSipEmitterLike {
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  removeListener(event: string, listener: (...args: unknown[]) => void): unknown;
}

/** A SIP URI (`JsSIP.URI`). */
export interface JsSipURILike {
  user?: string | null;
  host?: string | null;
  toString(): string;
}

/** A `JsSIP.NameAddrHeader` (`session.remote_identity`, `session.local_identity`). */
export interface JsSipNameAddrHeaderLike {
  uri?: JsSipURILike | null;
  display_name?: string | null;
}

/** The RTCPeerConnection as JsSIP exposes it (`session.connection`). */
export type JsSipPeerConnectionLike = MonitoredPeerConnection;

/** A `JsSIP.RTCSession`. */
export interface JsSipRTCSessionLike extends JsSipEmitterLike {
  /** Call-ID + from-tag. */
  readonly id?: string;
  /** Undefined until the PC is created: at once for outgoing calls, inside `answer()` for incoming ones. */
  readonly connection?: JsSipPeerConnectionLike | null;
  readonly direction?: string | null;
  readonly remote_identity?: JsSipNameAddrHeaderLike | null;
  readonly local_identity?: JsSipNameAddrHeaderLike | null;
  isEnded?(): boolean;
}

/** A `JsSIP.UA`. `stop` is wrapped on the instance so that the adapter detaches itself. */
export interface JsSipUALike extends JsSipEmitterLike {
  /** The adapter's newRTCSession listener goes first. */
  prependListener(event: string, listener: (...args: unknown[]) => void): unknown;
  stop(): void;
  /** `JsSIP.UA.C`: 0 INIT, 1 READY, 2 USER_CLOSED, 3 NOT_READY. */
  readonly status?: number;
}

/** A SIP request or response as JsSIP gives it in event data. */
export interface JsSipMessageLike {
  call_id?: string;
  method?: string;
  status_code?: number;
  reason_phrase?: string;
}

/** The data of the UA's `newRTCSession` event. */
export interface JsSipNewRTCSessionEvent {
  originator: 'local' | 'remote' | string;
  session: JsSipRTCSessionLike;
  /** The INVITE: `OutgoingRequest` (local) or `IncomingRequest` (remote); `call_id` is the Call-ID. */
  request?: JsSipMessageLike | null;
}

/** The data of a session's `ended` and `failed` events. */
export interface JsSipEndEvent {
  originator?: 'local' | 'remote' | 'system' | string;
  /** JsSIP.C.causes value, e.g. 'Busy', 'Rejected', 'Terminated'. */
  cause?: string;
  /** The SIP message that caused it (response, BYE, CANCEL), null, or an error text ('Internal Error'). */
  message?: JsSipMessageLike | string | null;
}

// ---------------------------------------------------------------------------------------------
// Options

/**
 * What a JsSIP failure/end cause is reported as:
 * - `callUnAnswered`: the fabric event callUnAnswered (a custom event `callUnAnswered` on the
 *   conference when the session never had a peer connection);
 * - `signalingError`, `applicationError`, `applicationLog`: an error with that webRTCFunction
 *   (on the fabric, or on the conference without a peer connection);
 * - `none`: not reported (a normal end).
 */
export type JsSipCauseReport = 'callUnAnswered' | 'signalingError' | 'applicationError' | 'applicationLog' | 'none';

/** What the adapter knows about a new session when it names its conference and remote user. */
export interface JsSipSessionInfo {
  session: JsSipRTCSessionLike;
  /** The Call-ID of the INVITE (`request.call_id` of `newRTCSession`); `session.id` when missing. */
  callID: string;
  direction: 'outgoing' | 'incoming';
}

export interface AttachJsSipOptions {
  /**
   * The conference of every session: a fixed string, or a function of the session. Default: the
   * SIP Call-ID, which both ends of a call see, so caller and callee land in one conference.
   */
  conferenceID?: string | ((info: JsSipSessionInfo) => string);
  /**
   * The remote user of a session's fabric. Default: `session.remote_identity.uri.user` (the To
   * user for outgoing calls, the From user for incoming ones), else the whole remote URI.
   */
  remoteUserID?: (info: JsSipSessionInfo) => string;
  /** Overrides entries of the cause table (README; `jssipCauseReport`), keyed by cause text. */
  causeReports?: Partial<Record<string, JsSipCauseReport>>;
  /** Extra fabric attributes, added to `sipCallID`, `sipDirection`, `sipRemoteURI`, `sipLocalURI`. */
  attributes?: Record<string, unknown>;
}

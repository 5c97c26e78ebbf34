/**
 * Public types of @callmetry/sipjs: local structural descriptions of the SIP.js 0.21 objects the
 * adapter uses (SIP.js is never imported, not even for types), and the attach options.
 *
 * Only the members the adapter reads are listed. Members are declared as methods so that the real
 * SIP.js classes (whose methods take SIP.js's own parameter types) are assignable to them.
 */
import type { EndpointType, MonitoredPeerConnection } from '@callmetry/core';

/** SIP.js's `Emitter<T>` (`session.stateChange`, `userAgent.stateChange`). */
export interface SipJsEmitterLike<T> {
  addListener(listener: (data: T) => void): void;
  removeListener(listener: (data: T) => void): void;
}

/** SIP.js's `URI` (grammar): `sip:bob@example.com` has user `bob`. */
export interface SipJsURILike {
  readonly user?: string;
  toString(): string;
}

/** SIP.js's `NameAddrHeader`: `session.remoteIdentity`. */
export interface SipJsNameAddrLike {
  readonly uri: SipJsURILike;
  readonly displayName?: string;
}

/** A SIP response as SIP.js hands it to request delegates (`IncomingResponse`). */
export interface SipJsIncomingResponseLike {
  readonly message: { readonly statusCode?: number; readonly reasonPhrase?: string };
}

/** `OutgoingRequestDelegate` of `inviter.invite()` / `session.invite()` options. */
export interface SipJsRequestDelegateLike {
  onAccept?(response: SipJsIncomingResponseLike): void;
  onProgress?(response: SipJsIncomingResponseLike): void;
  onRedirect?(response: SipJsIncomingResponseLike): void;
  onReject?(response: SipJsIncomingResponseLike): void;
  onTrying?(response: SipJsIncomingResponseLike): void;
}

/** Options of `inviter.invite()` and `session.invite()` (re-INVITE), as far as the adapter reads them. */
export interface SipJsInviteOptionsLike {
  requestDelegate?: SipJsRequestDelegateLike;
  sessionDescriptionHandlerOptions?: { hold?: boolean };
  withoutSdp?: boolean;
}

/** A MediaStreamTrack as far as mute detection reads it. */
export interface SipJsTrackLike {
  readonly kind: string;
  readonly enabled: boolean;
}

/** The SDH's RTCPeerConnection: what core monitors, plus the senders (mute detection). */
export interface SipJsPeerConnectionLike extends MonitoredPeerConnection {
  getSenders?(): ReadonlyArray<{ readonly track: SipJsTrackLike | null }>;
}

/**
 * A `SessionDescriptionHandler` (`Web.SessionDescriptionHandler` for the RTCPeerConnection and
 * `enableSenderTracks`; any SDH for getDescription/setDescription).
 */
export interface SipJsSessionDescriptionHandlerLike {
  readonly peerConnection?: SipJsPeerConnectionLike;
  getDescription(options?: object, modifiers?: unknown[]): Promise<unknown>;
  setDescription(sdp: string, options?: object, modifiers?: unknown[]): Promise<void>;
  enableSenderTracks?(enable: boolean): void;
}

/** `SessionState` values: Initial, Establishing, Established, Terminating, Terminated. */
export type SipJsSessionState = 'Initial' | 'Establishing' | 'Established' | 'Terminating' | 'Terminated';

/** A SIP.js `Session`: an `Inviter` (outgoing) or an `Invitation` (incoming). */
export interface SipJsSessionLike {
  readonly id: string;
  readonly state: string;
  readonly stateChange: SipJsEmitterLike<SipJsSessionState>;
  readonly remoteIdentity: SipJsNameAddrLike;
  /** Inviter: the outgoing INVITE (OutgoingRequestMessage); Invitation: the incoming one. Both have `callId`. */
  readonly request: { readonly callId: string };
  readonly sessionDescriptionHandler?: SipJsSessionDescriptionHandlerLike;
  readonly sessionDescriptionHandlerOptionsReInvite: object;
  invite(options?: SipJsInviteOptionsLike): Promise<unknown>;
}

/** An `Inviter` (outgoing call). */
export interface SipJsInviterLike extends SipJsSessionLike {
  cancel(options?: object): Promise<void>;
}

/** An `Invitation` (incoming call). */
export interface SipJsInvitationLike extends SipJsSessionLike {
  accept(options?: object): Promise<void>;
  reject(options?: { statusCode?: number; reasonPhrase?: string }): Promise<void>;
}

/** `SessionDescriptionHandlerFactory`: `(session, options?) => SessionDescriptionHandler`. */
export interface SipJsSessionDescriptionHandlerFactoryLike {
  (session: never, options?: never): unknown;
}

/** `UserAgentState` values. */
export type SipJsUserAgentState = 'Started' | 'Stopped';

/** A SIP.js `UserAgent`. */
export interface SipJsUserAgentLike {
  readonly state: string;
  readonly stateChange: SipJsEmitterLike<SipJsUserAgentState>;
  /** The UA's options (`userAgent.configuration`): its SDH factory is where every session's SDH is made. */
  readonly configuration: {
    sessionDescriptionHandlerFactory: SipJsSessionDescriptionHandlerFactoryLike;
    readonly userAgentString?: string;
  };
}

/** `Web.SessionManager`: its UserAgent is the public `sessionManager.userAgent`. */
export interface SipJsSessionManagerLike {
  readonly userAgent: SipJsUserAgentLike;
}

/**
 * `Web.SimpleUser`: its UserAgent is not public (`simpleUser.sessionManager.userAgent`, a
 * TypeScript-private field), so attachSipJs finds it there (see internals.ts).
 */
export interface SipJsSimpleUserLike {
  call(destination: string, inviterOptions?: object, inviterInviteOptions?: object): Promise<void>;
  hangup(): Promise<void>;
  isHeld(): boolean;
  isMuted(): boolean;
}

/** What attachSipJs accepts. */
export type SipJsAttachTarget = SipJsUserAgentLike | SipJsSessionManagerLike | SipJsSimpleUserLike;

/** Why an outgoing call failed, from the SIP status of the final response (see README). */
export type SipFailureCause =
  | 'busy'
  | 'declined'
  | 'noAnswer'
  | 'cancelled'
  | 'unreachable'
  | 'redirected'
  | 'unauthorized'
  | 'notAcceptable'
  | 'serverError'
  | 'failed';

/** How a final non-2xx status to the initial INVITE is reported. */
export interface SipStatusOutcome {
  statusCode: number;
  cause: SipFailureCause;
  /** Whether the fabric gets a `callUnAnswered` event. */
  callUnAnswered: boolean;
  /** The webRTCFunctions value of the error report. */
  webRTCFunction: 'applicationLog' | 'signalingError';
}

export interface AttachSipJsOptions {
  /**
   * The conference ID of a session's fabric. Default: the SIP Call-ID (`session.request.callId`),
   * which both ends of a call share. A function is called once per session; returning
   * undefined/'' (or throwing) falls back to the Call-ID.
   */
  conferenceID?: string | ((session: SipJsSessionLike) => string | undefined);
  /**
   * The fabric's remoteUserID. `'user'` (default): the user part of the remote identity's URI
   * (`session.remoteIdentity.uri.user`, e.g. `bob` for `sip:bob@example.com`; the full URI when
   * it has no user part). `'uri'`: the full URI (`sip:bob@example.com`). Or a function.
   */
  remoteUserID?: 'user' | 'uri' | ((session: SipJsSessionLike) => string | undefined);
  /** Default `peer`. Use `server` when calls go through a media server or B2BUA. */
  remoteEndpointType?: EndpointType;
  /** Extra attributes sent with every fabric (`fabric.attributes`), added to sipCallID, sipDirection, sipRemoteURI, sipLocalURI, sipjsVersion. */
  attributes?: Record<string, unknown>;
  /**
   * SIP.js's version (`import { version } from 'sip.js'`). Default: read from the UA's
   * userAgentString (`SIP.js/0.21.0` unless the app changed it). Decides whether the private
   * session registry may be hooked (see README, "Hooks").
   */
  sipjsVersion?: string;
}

/** `checkSipJsVersion`'s answer: whether SIP.js's private session registry may be hooked. */
export type SipJsVersionVerdict =
  | { usable: true; tested: boolean; version: string | undefined }
  | { usable: false; reason: string; version: string };

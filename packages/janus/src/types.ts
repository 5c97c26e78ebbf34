/**
 * Local structural types for janus.js (npm `janus-gateway`, 1.4.x): only the members this adapter
 * reads or wraps. janus.js is never imported; its own `janus.d.ts` types (`Janus`,
 * `JanusJS.PluginHandle`) are assignable to these.
 */
import type { MonitoredPeerConnection } from '@callmetry/core';

/** A plugin's message body (`plugindata.data`), e.g. `{videoroom: 'joined', room, id, ...}`. */
export type JanusMessage = Record<string, unknown>;

export interface JanusJsepLike {
  type?: string;
  sdp?: string;
}

/** One entry of `createOffer`/`createAnswer`'s `tracks` option. */
export interface JanusTrackOptionLike {
  type?: string;
  capture?: unknown;
  recv?: boolean;
  add?: boolean;
  remove?: boolean;
  mid?: string;
}

/** The parameter of `handle.createOffer` / `handle.createAnswer` (the adapter wraps success/error). */
export interface JanusWebrtcParams {
  jsep?: JanusJsepLike;
  tracks?: JanusTrackOptionLike[];
  success?(jsep: JanusJsepLike): void;
  error?(error: unknown): void;
}

/** The parameter of `handle.send` (the adapter reads `message.request`, `room`, `ptype`). */
export interface JanusSendParams {
  message?: JanusMessage;
  jsep?: JanusJsepLike;
  success?(data?: unknown): void;
  error?(error: string): void;
}

/**
 * A janus.js plugin handle (what `session.attach`'s `success` receives). janus.js copies the attach
 * callbacks onto the handle and always calls them as its properties, so the adapter wraps them
 * there; it also wraps the methods listed here. Everything is optional: what is missing is skipped.
 */
export interface JanusPluginHandleLike {
  id?: number | string;
  plugin?: string;
  detached?: boolean;
  /** `webrtcStuff.pc`: null until the first createOffer/createAnswer, null again after cleanup. */
  webrtcStuff?: { pc?: MonitoredPeerConnection | null } | null;

  createOffer?(params: JanusWebrtcParams): unknown;
  createAnswer?(params: JanusWebrtcParams): unknown;
  handleRemoteJsep?(params: { jsep?: JanusJsepLike; success?: (...args: never[]) => void; error?: (error: string) => void }): unknown;
  send?(params: JanusSendParams): unknown;
  muteAudio?(mid?: string): unknown;
  unmuteAudio?(mid?: string): unknown;
  muteVideo?(mid?: string): unknown;
  unmuteVideo?(mid?: string): unknown;
  detach?(params?: { success?: () => void; error?: (error: string) => void; noRequest?: boolean }): unknown;

  // Callbacks copied from the attach options (Janus.noop when the app gave none).
  webrtcState?(up: boolean, reason?: string): void;
  iceState?(state: string): void;
  mediaState?(kind: string, receiving: boolean, mid?: string): void;
  slowLink?(uplink: boolean, lost: number, mid?: string): void;
  onmessage?(message: JanusMessage, jsep?: JanusJsepLike): void;
  oncleanup?(): void;
  ondetached?(): void;
}

/** `session.attach`'s options (the adapter wraps `success` and `error`; the rest is passed on). */
export interface JanusAttachOptionsLike {
  plugin?: string;
  success?: (handle: never) => void;
  error?: (error: string) => void;
  [option: string]: unknown;
}

/** A janus.js session (`new Janus({...})`). `attach` and `destroy` are own properties of it. */
export interface JanusSessionLike {
  attach(options: never): unknown;
  destroy?(options: never): unknown;
  getSessionId?(): number | string | null | undefined;
}

/** What the adapter knows about a handle when it asks the app's option functions. */
export interface JanusHandleInfo {
  /** `janus.plugin.videoroom`, `janus.plugin.echotest`, ... */
  plugin: string;
  handleId?: string;
  sessionId?: string;
  /** The room from the last request or plugin event carrying one (join, `joined`, ...), as a string. */
  room?: string;
  /** VideoRoom role: `publisher` or `subscriber`. */
  ptype?: 'publisher' | 'subscriber';
}

export interface AttachJanusOptions {
  /**
   * The fabric's conference. Default: the VideoRoom (or any plugin's) `room` as a string, else
   * `janus-<sessionId>`. A function may return undefined to use that default.
   */
  conferenceID?: string | ((handle: JanusPluginHandleLike, info: JanusHandleInfo) => string | undefined);
  /** The fabric's remote user (the server). Default `janus`. */
  remoteUserID?: string | ((handle: JanusPluginHandleLike, info: JanusHandleInfo) => string | undefined);
  /**
   * The user a subscribed VideoRoom feed is attributed to. Default: its display name, else its
   * feed id. Returning undefined uses that default.
   */
  userIdFromFeed?: (feedId: number | string, display: string | undefined) => string | undefined;
  /** Plugin handles attached before the adapter (janus.js keeps its handle list private). */
  handles?: JanusPluginHandleLike[];
}

/** Stops monitoring: restores every wrapper and terminates the fabrics the adapter created. */
export type DetachJanus = () => void;

/** Custom events the adapter sends with `monitor.sendCustomEvent` (callstats.js has no fabricEvent for them). */
export type JanusCustomEventName = 'slowLink' | 'mediaState' | 'publisherLeft';

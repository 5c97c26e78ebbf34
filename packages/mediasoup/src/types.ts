/**
 * Public types of @callmetry/mediasoup.
 *
 * mediasoup-client is not a dependency: the `*Like` types below describe, structurally, only the
 * members of mediasoup-client 3.x objects that the adapter uses (checked against 3.18.7). A real
 * `Device`, `Transport`, `Producer` or `Consumer` is assignable to them.
 */
import type { StatsReportLike } from '@callmetry/core';

/**
 * A listener as the adapter registers it on mediasoup-client's event emitters: it accepts any
 * arguments, so it fits every listener type of mediasoup-client's typed `on<K>()`.
 */
export type MediasoupListener = (...args: unknown[]) => void;

/**
 * mediasoup-client's EnhancedEventEmitter, as far as the adapter uses it, for the event names `E`
 * the adapter listens to (literal names keep mediasoup-client's typed `on<K>()` assignable).
 */
export interface MediasoupEmitterLike<E extends string> {
  on(eventName: E, listener: MediasoupListener): unknown;
  off(eventName: E, listener: MediasoupListener): unknown;
}

/** mediasoup-client's `appData`: whatever the app stored. */
export type AppDataLike = Record<string, unknown>;

export interface RtpEncodingLike {
  ssrc?: number;
  rid?: string;
  rtx?: { ssrc?: number };
}

export interface RtpParametersLike {
  mid?: string;
  encodings?: RtpEncodingLike[];
}

/** `mediasoupClient.Device`: only its observer ('newtransport') is used. */
export interface DeviceLike {
  readonly observer: MediasoupEmitterLike<'newtransport'>;
  readonly handlerName?: string;
}

/** `mediasoupClient.types.Transport`. */
export interface TransportLike extends MediasoupEmitterLike<'connectionstatechange' | 'icegatheringstatechange'> {
  readonly id: string;
  readonly direction: 'send' | 'recv';
  readonly closed: boolean;
  readonly connectionState: string;
  readonly iceGatheringState: string;
  readonly appData: AppDataLike;
  readonly observer: MediasoupEmitterLike<'close' | 'newproducer' | 'newconsumer'>;
  getStats(): Promise<StatsReportLike>;
}

/** Events of a producer's or consumer's observer. */
export type ItemObserverEvent = 'close' | 'pause' | 'resume' | 'trackended';

/** `mediasoupClient.types.Producer`. */
export interface ProducerLike extends MediasoupEmitterLike<'transportclose'> {
  readonly id: string;
  readonly kind: string;
  readonly closed: boolean;
  readonly paused: boolean;
  readonly track: { readonly id: string } | null;
  readonly rtpParameters: RtpParametersLike;
  readonly appData: AppDataLike;
  readonly observer: MediasoupEmitterLike<ItemObserverEvent>;
}

/** `mediasoupClient.types.Consumer`. */
export interface ConsumerLike extends MediasoupEmitterLike<'transportclose'> {
  readonly id: string;
  readonly producerId: string;
  readonly localId: string;
  readonly kind: string;
  readonly closed: boolean;
  readonly paused: boolean;
  readonly track: { readonly id: string };
  readonly rtpParameters: RtpParametersLike;
  readonly appData: AppDataLike;
  readonly observer: MediasoupEmitterLike<ItemObserverEvent>;
}

/** Who sent a consumed stream, and how to label it. */
export interface ConsumerUser {
  userID: string;
  usageLabel?: string;
  associatedVideoTag?: string;
}

export interface AttachMediasoupOptions {
  /**
   * The conference (room) of every transport. A string, or a function of the transport (e.g.
   * reading `transport.appData`); when it gives none: `transport.appData.conferenceID`, else
   * `transport.appData.roomId`. A transport without a conference ID is not monitored (a warning
   * is logged).
   */
  conferenceID?: string | ((transport: TransportLike) => string | undefined);
  /** The fabric's remote user (the SFU). Default `'sfu'`. */
  remoteUserID?: string | ((transport: TransportLike) => string | undefined);
  /**
   * Who produced a consumed stream. Default: the consumer's `appData.userId`, else
   * `appData.peerId`, else `appData.displayName`; without any of them the stream stays with the
   * fabric's remote user (`remoteUserID`).
   */
  userIdFromConsumer?: (consumer: ConsumerLike, transport: TransportLike) => string | ConsumerUser | undefined;
  /**
   * Whether a video producer is a screen share (screenShareStart on produce, screenShareStop on
   * close). Default: `appData.share === true`, `appData.screen === true`, or `appData.source`
   * containing "screen" or "display".
   */
  isScreenShare?: (producer: ProducerLike) => boolean;
  /**
   * Usage label of a producer's or consumer's stream. Default: `appData.usageLabel`, else
   * `appData.source`, else `'screen'` for screen shares, else `'microphone'` / `'camera'` by kind.
   */
  usageLabel?: (item: ProducerLike | ConsumerLike, direction: 'send' | 'recv') => string | undefined;
  /**
   * Extra fabric attributes, merged over `{sfu: 'mediasoup', transportId, transportDirection,
   * peerConnection, handlerName}`.
   */
  attributes?: Record<string, unknown>;
  /**
   * How the transport's RTCPeerConnection is reached. `'auto'` (default): the handler's own
   * RTCPeerConnection for the built-in browser handlers of mediasoup-client 3.x (private member,
   * version-checked), otherwise a stand-in built on the transport's public API. `'public'`:
   * always the public-API stand-in (stats from `transport.getStats()`, state from
   * 'connectionstatechange'; no SDP, no ICE-restart detection).
   */
  peerConnection?: 'auto' | 'public';
}

/**
 * Removes every listener the adapter added and terminates the fabrics it created. Idempotent.
 * Logging goes to `monitor.logger` (give the logger to `createMonitor`).
 */
export type DetachMediasoup = () => void;

/**
 * Public types of @callmetry/core. Everything an app or an adapter may name lives here.
 * Units are part of the type names: a `Milliseconds` is never seconds, a `Kbps` is kilobits/s.
 */
import type {
  csError,
  endpointType,
  fabricEvent,
  fabricUsage,
  qualityRating,
  transmissionDirection,
  webRTCFunctions,
} from './callstats/enums';

// ---------------------------------------------------------------------------------------------
// Units

/** Milliseconds. */
export type Milliseconds = number;
/** Kilobits per second (1 kbps = 1000 bits/s). */
export type Kbps = number;
/** Packets per second. */
export type PacketsPerSecond = number;
/** A ratio between 0 and 1. */
export type Ratio = number;
/** A percentage between 0 and 100. */
export type Percentage = number;
/** Frames per second. */
export type FramesPerSecond = number;
/** A mean opinion score, 1 (bad) to 5 (excellent). */
export type MeanOpinionScore = number;
/** Milliseconds since the Unix epoch. */
export type EpochMilliseconds = number;

// ---------------------------------------------------------------------------------------------
// Vocabulary (values of callstats.js's enums)

type ValueOf<T> = T[keyof T];
export type FabricEvent = ValueOf<typeof fabricEvent>;
export type FabricUsage = ValueOf<typeof fabricUsage>;
export type EndpointType = ValueOf<typeof endpointType>;
export type TransmissionDirection = ValueOf<typeof transmissionDirection>;
export type WebRTCFunction = ValueOf<typeof webRTCFunctions>;
export type QualityRating = ValueOf<typeof qualityRating>;
export type CsErrorCode = ValueOf<typeof csError>;

/** The fabric's state machine, as callstats.js reported it in `fabricState`. */
export type FabricState = 'initializing' | 'established' | 'disrupted' | 'hold' | 'terminated' | 'failed';

/** How reportError classified a failure (callstats.js's failure categories). */
export type ErrorCategory =
  | 'negotiationFailure'
  | 'sdpGeneration'
  | 'mediaConfiguration'
  | 'iceFailureBeforeSetup'
  | 'iceFailureAfterSetup'
  | 'signalingError'
  | 'applicationError'
  | 'applicationLog';

/** Every facade method answers with this and never throws. */
export interface Result {
  status: 'success' | 'failure';
  message?: string;
}

// ---------------------------------------------------------------------------------------------
// The peer connection, as far as the SDK uses it. A structural type so that any spec-shaped
// RTCPeerConnection (browser, @roamhq/wrtc, werift, a test double) can be monitored.

export interface StatsReportLike {
  forEach(callback: (value: StatsEntry, key: string) => void): void;
}
/** One entry of an RTCStatsReport: `id`, `type`, `timestamp` plus type-specific fields. */
export interface StatsEntry {
  id: string;
  type: string;
  timestamp: number;
  [field: string]: unknown;
}

export interface MonitoredPeerConnection {
  readonly connectionState?: string;
  readonly iceConnectionState: string;
  readonly iceGatheringState?: string;
  readonly signalingState: string;
  readonly localDescription: { type: string; sdp: string } | null;
  readonly remoteDescription: { type: string; sdp: string } | null;
  getStats(): Promise<StatsReportLike>;
  addEventListener(type: string, listener: (event: unknown) => void): void;
  removeEventListener(type: string, listener: (event: unknown) => void): void;
  getTransceivers?(): ReadonlyArray<{
    mid: string | null;
    sender: { track: { id: string; kind: string } | null };
    receiver: { track: { id: string; kind: string } | null };
  }>;
}

// ---------------------------------------------------------------------------------------------
// Creating a monitor

/** callstats.js's localUserID: a string or `{userName, aliasName}`. */
export type UserIdentity = string | { userName: string; aliasName?: string };

/**
 * The app's server mints a token (third-party authentication). callstats.js's signature:
 * `tokenGenerator(forceNew, callback)` where callback(error, token).
 */
export type TokenGenerator = (forceNew: boolean, callback: (error: unknown, token?: string) => void) => void;

export interface TransportOptions {
  /** Items kept while the collector is unreachable. Default 5000. Stats go first when full. */
  bufferSize?: number;
  /** How long items are gathered into one batch. Default 1000 ms. */
  batchIntervalMs?: Milliseconds;
  /** Reconnect backoff bounds. Defaults 500 ms .. 30 s, with jitter. */
  minBackoffMs?: Milliseconds;
  maxBackoffMs?: Milliseconds;
  /** Use HTTP POSTs only, no WebSocket. */
  httpOnly?: boolean;
}

export interface MonitorOptions {
  appID: string;
  localUserID: UserIdentity;
  /** Either the app secret (the SDK signs a token request; the secret is never sent) or a token generator. */
  appSecret?: string;
  tokenGenerator?: TokenGenerator;
  /** Where data goes, e.g. `http://127.0.0.1:8080`. Without it, local-only: callbacks work, nothing is sent. */
  collectorURL?: string;
  /** getStats sampling interval. Minimum and default 1000 ms. */
  statsIntervalMs?: Milliseconds;
  /** How often the 'stats' event fires per fabric. Default 10000 ms, as callstats.js. */
  statsCallbackIntervalMs?: Milliseconds;
  /** Send candidate IP addresses. Default false. */
  collectIP?: boolean;
  transport?: TransportOptions;
  logger?: Logger;
}

export interface Logger {
  debug(message: string, ...details: unknown[]): void;
  info(message: string, ...details: unknown[]): void;
  warn(message: string, ...details: unknown[]): void;
  error(message: string, ...details: unknown[]): void;
}

export interface FabricOptions {
  remoteUserID: string;
  conferenceID: string;
  /** Default `multiplex`. */
  usage?: FabricUsage;
  /** Default `peer`. SFUs and gateways are `server`. */
  remoteEndpointType?: EndpointType;
  /** Default `sendrecv`. */
  direction?: TransmissionDirection;
  /** Free-form attributes sent with the fabric. */
  attributes?: Record<string, unknown>;
}

/** Which stream a mapping applies to: by SSRC, by transceiver mid, or by track id. */
export type StreamSelector = { ssrc: string | number } | { mid: string } | { trackId: string };

export interface StreamMapping {
  /** The user who sends (remote) or owns (local) the stream. */
  userID: string;
  usageLabel?: string;
  associatedVideoTag?: string;
}

export interface ErrorDetails {
  localSDP?: string;
  remoteSDP?: string;
}

// ---------------------------------------------------------------------------------------------
// Stats

export type StatsType = 'inbound-rtp' | 'outbound-rtp';
export type MediaKind = 'audio' | 'video';
export type QualityLimitationReason = 'none' | 'cpu' | 'bandwidth' | 'other';

/** One stream's interval values, as of the last poll. */
export interface StreamStats {
  ssrc: string;
  statsType: StatsType;
  mediaType: MediaKind;
  /** The user this stream belongs to (local user for outbound, sender for inbound). */
  userID: string;
  /** callstats.js's field: the fabric's remote user. */
  remoteUserID: string;
  cname?: string;
  msid?: string;
  mid?: string;
  trackIdentifier?: string;
  usageLabel?: string;
  associatedVideoTag?: string;
  /** SSRCs of RTX/FEC streams grouped with this one. */
  associatedSsrcs?: string[];

  bitrate?: Kbps;
  packetRate?: PacketsPerSecond;
  /** Lost / (lost + received) in the last interval; outbound: from remote-inbound-rtp. */
  fractionLoss?: Ratio;
  packetLossPercentage?: Percentage;
  /** Cumulative packets lost, as the receiver reports it. */
  packetsLost?: number;
  jitter?: Milliseconds;
  averageJitter?: Milliseconds;
  rtt?: Milliseconds;
  averageRTT?: Milliseconds;
  /** Outbound audio level (0..1). */
  audioInputLevel?: Ratio;
  /** Inbound audio level (0..1). */
  audioOutputLevel?: Ratio;
  frameRate?: FramesPerSecond;
  frameWidth?: number;
  frameHeight?: number;
  qualityLimitationReason?: QualityLimitationReason;
  /** Estimated MOS for audio streams (E-model; see docs/stats.md). */
  mos?: MeanOpinionScore;
  quality?: 'excellent' | 'good' | 'fair' | 'poor' | 'bad';
}

export interface ConnectionStats {
  rtt?: Milliseconds;
  availableOutgoingBitrate?: Kbps;
  availableIncomingBitrate?: Kbps;
  localCandidateType?: string;
  remoteCandidateType?: string;
  protocol?: string;
  /** Present only when collectIP is true. */
  localAddress?: string;
  remoteAddress?: string;
}

/** callstats.js's stats callback shape, per fabric. */
export interface FabricStats {
  fabricID: string;
  conferenceID: string;
  /** The peer connection's connectionState (or iceConnectionState where there is none). */
  connectionState: string;
  fabricState: FabricState;
  conferenceURL: string;
  timestamp: EpochMilliseconds;
  streams: Record<string, StreamStats>;
  mediaStreamTracks: StreamStats[];
  connection: ConnectionStats;
}

// ---------------------------------------------------------------------------------------------
// Events the monitor emits (typed event map)

export interface FabricEventRecord {
  fabricID: string;
  conferenceID: string;
  event: FabricEvent | FabricLifecycleEvent;
  data?: Record<string, unknown>;
  timestamp: EpochMilliseconds;
}

/** Events the SDK derives itself from the peer connection (not app-sendable). */
export type FabricLifecycleEvent =
  | 'fabricSetup'
  | 'fabricSetupFailed'
  | 'fabricStateChange'
  | 'connectionDisruptionStart'
  | 'connectionDisruptionEnd'
  | 'iceRestarted'
  | 'fabricDropped';

export interface ErrorRecord {
  fabricID?: string;
  conferenceID: string;
  webRTCFunction: WebRTCFunction;
  category: ErrorCategory;
  name?: string;
  message: string;
  localSDP?: string;
  remoteSDP?: string;
  timestamp: EpochMilliseconds;
}

export interface TransportStatus {
  state: 'local-only' | 'connecting' | 'connected' | 'disconnected' | 'failed';
  /** csError code when state is failed/disconnected because of it. */
  error?: CsErrorCode;
  message?: string;
  /** Stats samples dropped from the offline buffer so far. */
  droppedSamples: number;
}

export interface MonitorEvents {
  /** Every fabric event, app-sent or derived. */
  fabricEvent: (record: FabricEventRecord) => void;
  /** Every reported error (reportError, adapters, lifecycle failures). */
  error: (record: ErrorRecord) => void;
  /** At statsCallbackIntervalMs, per fabric. */
  stats: (stats: FabricStats) => void;
  /** At every poll, per fabric (statsIntervalMs). */
  sample: (stats: FabricStats) => void;
  transport: (status: TransportStatus) => void;
  /** Every custom event the app or an adapter sent (sendCustomEvent). */
  customEvent: (record: CustomEventRecord) => void;
  /** The monitor was closed: adapters detach. */
  closed: () => void;
}

export interface CustomEventRecord {
  conferenceID: string;
  fabricID?: string;
  name: string;
  data?: Record<string, unknown>;
  timestamp: EpochMilliseconds;
}

export type Unsubscribe = () => void;

export interface Fabric {
  readonly id: string;
  readonly pc: MonitoredPeerConnection;
  readonly conferenceID: string;
  readonly remoteUserID: string;
  readonly usage: FabricUsage;
  readonly remoteEndpointType: EndpointType;
  readonly direction: TransmissionDirection;
  /** The attributes given to addFabric. */
  readonly attributes?: Record<string, unknown>;
  readonly state: FabricState;
  /** Sends an app-level fabric event (fabricHold, audioMute, dominantSpeaker, ...). */
  sendEvent(event: FabricEvent, data?: Record<string, unknown>): Result;
  reportError(fn: WebRTCFunction, error: unknown, details?: ErrorDetails): Result;
  /** Attributes a stream to a user. Applies to streams that appear later too. */
  mapStream(selector: StreamSelector, mapping: StreamMapping): Result;
  /**
   * Forgets a mapStream (a participant left): the stream is the fabric's remote user's again, and
   * a long-lived fabric does not keep every mapping it ever had. Success also when none was set.
   */
  unmapStream(selector: StreamSelector): Result;
  /** The latest processed stats (after at least one poll), or undefined. */
  latestStats(): FabricStats | undefined;
  /** Polls now and returns the result (does not wait for the interval). */
  pollNow(): Promise<FabricStats | undefined>;
  /**
   * Ends monitoring: fabricTerminated (with `data`, e.g. a hang-up reason), timers and listeners
   * released. The last polled stats stay available from latestStats(); call pollNow() first for
   * a final sample while the pc is still open.
   */
  terminate(data?: Record<string, unknown>): void;
}

export interface Feedback {
  userID?: UserIdentity;
  overall: number;
  audio?: number;
  video?: number;
  comment?: string;
}

export interface Monitor {
  readonly appID: string;
  readonly localUserID: string;
  /** The monitor's logger (never throws); adapters log through it. */
  readonly logger: Logger;
  /** Resolves when authentication finished (or immediately in local-only mode). */
  readonly ready: Promise<Result>;
  /** Adds a fabric; adding the same pc twice returns the existing fabric. Never throws: undefined when refused. */
  addFabric(pc: MonitoredPeerConnection, options: FabricOptions): Fabric | undefined;
  /** addFabric that also says why it refused. */
  tryAddFabric(pc: MonitoredPeerConnection, options: FabricOptions): { fabric?: Fabric; result: Result };
  getFabric(pc: MonitoredPeerConnection): Fabric | undefined;
  fabrics(): Fabric[];
  on<K extends keyof MonitorEvents>(event: K, listener: MonitorEvents[K]): Unsubscribe;
  sendFeedback(conferenceID: string, feedback: Feedback): Result;
  sendCustomEvent(conferenceID: string, name: string, data?: Record<string, unknown>, pc?: MonitoredPeerConnection): Result;
  sendCustomStats(conferenceID: string, data: Record<string, number>, pc?: MonitoredPeerConnection): Result;
  reportError(conferenceID: string, fn: WebRTCFunction, error: unknown, details?: ErrorDetails): Result;
  transportStatus(): TransportStatus;
  /** Terminates every fabric, flushes and closes the transport. */
  close(): Promise<void>;
}

/**
 * Anything with an event subscription API: Node-style, EventTarget-style, or both. (`never` for
 * the listener so that every emitter's own listener type fits.)
 */
export interface EmitterLike {
  on?(event: string, listener: never): unknown;
  off?(event: string, listener: never): unknown;
  removeListener?(event: string, listener: never): unknown;
  addEventListener?(event: string, listener: never): unknown;
  removeEventListener?(event: string, listener: never): unknown;
}

/**
 * What an adapter's setup gets: listeners and wrappers it adds through the scope are removed on
 * detach, and every callback it hands to the library is made safe (errors logged, never thrown
 * into the library or the app).
 */
export interface AdapterScope {
  readonly monitor: Monitor;
  readonly logger: Logger;
  /** True once detached: late callbacks should do nothing. */
  readonly detached: boolean;
  /** The function, made safe: it never throws, and does nothing after detach. */
  safe<A extends unknown[]>(fn: (...args: A) => unknown): (...args: A) => void;
  /** Subscribes a safe listener; it is unsubscribed on detach (or by the returned function). */
  listen<A extends unknown[]>(target: EmitterLike, event: string, listener: (...args: A) => unknown): () => void;
  /**
   * Replaces `target[name]` with `wrapper(original)`. On detach the original comes back, unless
   * someone wrapped it again since: then ours stays but passes calls straight through.
   */
  wrap<T extends object, K extends keyof T>(target: T, name: K, wrapper: (original: T[K]) => T[K]): void;
  /** Runs `cleanup` on detach (last registered, first run). */
  onDetach(cleanup: () => void): void;
  /** Detaches this attachment (e.g. when the library object closes). */
  detach(): void;
}

/** callstats.js's configParams, plus Callmetry's own fields. */
export interface CallStatsConfigParams {
  /** Callmetry: where data goes. Without it (and without setProxyConfig), local-only mode. */
  collectorURL?: string;
  collectIP?: boolean;
  /** Callmetry: getStats sampling interval (ms, minimum 1000). */
  statsIntervalMs?: number;
  /** Callmetry: stats callback interval (ms, default 10000). */
  statsCallbackIntervalMs?: number;
  applicationVersion?: string;
  siteID?: string;
  additionalIDs?: Record<string, unknown>;
  disableBeforeUnloadHandler?: boolean;
  disablePrecalltest?: boolean;
  logger?: Logger;
  [key: string]: unknown;
}

/** callstats.js's stream rating (its 5 → 3 reduction of qualityRating), `unknown` without data. */
export type CsQuality = 'excellent' | 'fair' | 'bad' | 'unknown';

/** A stream as csStatsCallback gives it: StreamStats with callstats.js's rating and `audioLevel`. */
export interface CsStreamStats extends Omit<StreamStats, 'quality'> {
  quality: CsQuality;
  /** Inbound audio: the received level (0..1, = audioOutputLevel), callstats.js's field. */
  audioLevel?: Ratio;
}

/** csStatsCallback's object: FabricStats with callstats.js's connectionState and ratings. */
export interface CsStats extends Omit<FabricStats, 'connectionState' | 'streams' | 'mediaStreamTracks'> {
  /** As callstats.js: the browser's network state (navigator.onLine). The pc's own state is fabricState. */
  connectionState: 'online' | 'offline';
  streams: Record<string, CsStreamStats>;
  mediaStreamTracks: CsStreamStats[];
}

// The collector's public types, in one place: src/index.ts exports them by name. The modules
// import them from here; what is internal to a module stays in it.

// ------------------------------------------------------------------ wire protocol (docs/protocol.md v1)
// As the collector sees them after validation.

export type JsonPrimitive = string | number | boolean | null;
export type JsonValue = JsonPrimitive | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export type RemoteEndpointType = 'peer' | 'server';
export type Direction = 'sendonly' | 'receiveonly' | 'sendrecv' | 'inactive';
export type Quality = 'excellent' | 'good' | 'fair' | 'poor' | 'bad';
export type ItemKind = Item['kind'];

/** A value of a stats field after delta decoding; `null` in a delta means "became unknown". */
export type StatsFieldValue = number | string;
/** Fields of one stream or of the connection, as sent (delta) : null removes a field. */
export type StatsDelta = Record<string, StatsFieldValue | null>;
/** A full, reconstructed sample. */
export type StatsFields = Record<string, StatsFieldValue>;

interface ItemBase {
  n: number;
  t: number;
  conferenceID: string;
}

export interface FabricItem extends ItemBase {
  kind: 'fabric';
  fabricID: string;
  localUserID: string;
  remoteUserID: string;
  fabricUsage: string;
  remoteEndpointType: RemoteEndpointType;
  direction: Direction;
  attributes?: JsonObject;
}

export interface EventItem extends ItemBase {
  kind: 'event';
  fabricID?: string;
  event: string;
  data?: JsonObject;
}

export interface ErrorItem extends ItemBase {
  kind: 'error';
  fabricID?: string;
  fn: string;
  category: string;
  name?: string;
  message: string;
  localSDP?: string;
  remoteSDP?: string;
}

export interface StreamDelta {
  key: string;
  fields: StatsDelta;
}

export interface StatsItem extends ItemBase {
  kind: 'stats';
  fabricID: string;
  /** Each stream's delta; `fields` excludes `key`. */
  streams: StreamDelta[];
  connection?: StatsDelta;
}

export interface FeedbackRating {
  overall: number;
  audio?: number;
  video?: number;
}

export interface FeedbackItem extends ItemBase {
  kind: 'feedback';
  userID: string;
  rating: FeedbackRating;
  comment?: string;
}

export interface CustomItem extends ItemBase {
  kind: 'custom';
  fabricID?: string;
  name: string;
  data?: JsonObject;
}

export interface CustomStatsItem extends ItemBase {
  kind: 'customStats';
  fabricID?: string;
  data: Record<string, number>;
}

export interface DroppedItem extends ItemBase {
  kind: 'dropped';
  count: number;
  reason: 'buffer_full';
}

export type Item =
  | FabricItem
  | EventItem
  | ErrorItem
  | StatsItem
  | FeedbackItem
  | CustomItem
  | CustomStatsItem
  | DroppedItem;

export interface Batch {
  sid: string;
  items: Item[];
}

export type FabricState = 'new' | 'established' | 'hold' | 'disrupted' | 'terminated' | 'failed';

// ------------------------------------------------------------------ apps and tokens

export interface AppCredentials {
  appID: string;
  secret: string;
}

/** Claims of a token (docs/protocol.md "Tokens"). */
export interface TokenClaims {
  appID: string;
  userID: string;
  /** Expiry, seconds since epoch. */
  exp: number;
  jti: string;
  iat?: number;
  /** "callmetry" on collector-minted tokens; only those are accepted by the ingest endpoints. */
  iss?: string;
}

// ------------------------------------------------------------------ logging

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, string | number | boolean | null | undefined>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

export interface LogRecord {
  level: LogLevel;
  message: string;
  fields: LogFields;
  time: number;
}

// ------------------------------------------------------------------ storage
// The storage boundary of the collector. SQLite (./storage/sqlite.ts) implements it today; a server
// database can implement the same interface later. Every method is async so such an
// implementation needs no change of the callers.

/** Who sent a batch: from the verified token, plus the server's clock. */
export interface IngestContext {
  appID: string;
  /** The token's userID: the local user of the client session. */
  userID: string;
  sid: string;
  /** Server time (ms) of reception. */
  receivedAt: number;
}

export type IngestResult =
  | {
      ok: true;
      /** `n` of every item of the batch (new and already stored). */
      acked: number[];
      stored: number;
      duplicates: number;
      /** Conferences that received new data. */
      conferences: string[];
    }
  | { ok: false; error: 'sid_owned_by_other_app'; message: string };

export interface ConferenceRef {
  appID: string;
  conferenceID: string;
}

export interface ConferenceListEntry {
  conferenceID: string;
  firstSeen: number;
  lastSeen: number;
  participantCount: number;
  fabricCount: number;
  errorCount: number;
  summarized: boolean;
}

export interface ConferenceRecord {
  conferenceID: string;
  /** Client times (ms) of the first and last item. */
  firstSeen: number;
  lastSeen: number;
  /** Server time (ms) of the last new data. */
  lastReceived: number;
  summary: ConferenceSummary | null;
  /** True when data arrived after the summary was computed (or there is none yet). */
  summaryStale: boolean;
  /** Monotonic counter of the conference's data changes; pass it back to saveSummary. */
  dataVersion: number;
}

export interface ParticipantRecord {
  userID: string;
  firstSeen: number;
  lastSeen: number;
}

export interface FabricRecord {
  sid: string;
  fabricID: string;
  /** null until the `fabric` item arrived (events may come first or alone). */
  localUserID: string | null;
  remoteUserID: string | null;
  fabricUsage: string | null;
  remoteEndpointType: RemoteEndpointType | null;
  direction: Direction | null;
  attributes: JsonObject | null;
  state: FabricState;
  /** From the first fabricSetup event's data.setupDelay (ms). */
  setupDelay: number | null;
  firstSeen: number;
  lastSeen: number;
}

/** A stored item with where it came from. */
export interface StoredItem<T extends Item = Item> {
  sid: string;
  userID: string;
  receivedAt: number;
  item: T;
}

/** One reconstructed (full) sample of a stream, or of the connection (`key` === CONNECTION_KEY). */
export interface SampleRecord {
  sid: string;
  fabricID: string;
  key: string;
  n: number;
  t: number;
  fields: StatsFields;
}

export interface ConferenceData {
  conference: ConferenceRecord;
  /** Users who sent data (token userIDs) and peers named as remote users of fabrics. */
  participants: ParticipantRecord[];
  fabrics: FabricRecord[];
  /** Ordered by (sid, n): the order each client produced them. */
  events: StoredItem<EventItem>[];
  errors: StoredItem<ErrorItem>[];
  feedback: StoredItem<FeedbackItem>[];
  customEvents: StoredItem<CustomItem>[];
  customStats: StoredItem<CustomStatsItem>[];
  dropped: StoredItem<DroppedItem>[];
  /** Ordered by (sid, fabricID, key, n). */
  samples: SampleRecord[];
}

export interface Storage {
  /**
   * Stores a validated batch atomically and durably, idempotently on (appID, sid, n): items already
   * stored are acknowledged again and not stored twice. Reconstructs delta-coded stats samples.
   * Refuses a sid that belongs to another app. Resolves only once the data is committed.
   */
  ingest(ctx: IngestContext, items: readonly Item[]): Promise<IngestResult>;
  /** Records a single-use value (token nonce or jti); false when it was already used. */
  claimOnce(appID: string, kind: 'nonce' | 'jti', value: string, expiresAt: number): Promise<boolean>;
  /** Forgets single-use values that expired before `now`. */
  purgeExpired(now: number): Promise<void>;
  /** Newest first (by lastSeen), at most `limit`. */
  listConferences(appID: string, limit?: number): Promise<ConferenceListEntry[]>;
  /**
   * A conference's data. With `window`, only the samples with `from <= t < to` (ms; either end
   * open when absent): how a long conference is read in pages; everything else is whole.
   */
  getConference(appID: string, conferenceID: string, window?: TimeWindow): Promise<ConferenceData | null>;
  /**
   * Conferences whose summary is missing or stale and that are due: all fabrics in a final state
   * (terminated/failed), or no new data since `idleSince` (server time).
   */
  conferencesDueForSummary(idleSince: number, limit: number): Promise<(ConferenceRef & { reason: 'terminated' | 'idle' })[]>;
  /** Stores a summary computed from data read at `dataVersion`; stays stale if data arrived since. */
  saveSummary(ref: ConferenceRef, summary: ConferenceSummary, dataVersion: number): Promise<void>;
  /**
   * Optional capability: conference views computed away from the caller's thread (see
   * ConferenceViews), so that reading a huge conference does not stall ingest and every other
   * request. A storage without it (or returning null) is read with getConference() and the views
   * are computed in the caller's thread. The caller closes what it opened; close() of the storage
   * closes whatever is still open.
   */
  openViews?(options: ConferenceViewsOptions): ConferenceViews | null;
  close(): Promise<void>;
}

/** A conference summary and the `dataVersion` of the data it was computed from (for saveSummary). */
export interface ConferenceSummaryResult {
  summary: ConferenceSummary;
  dataVersion: number;
}

/**
 * The two heavy reads of the collector, each reading a whole conference (or a window of it) and
 * computing what is served or stored: the query API's conference body and the conference summary.
 * Implementations must give exactly what the in-thread functions of ./views.ts give for the same
 * data (they should call them). They refuse with a ConferenceViewError when they are busy, too
 * slow or broken.
 */
export interface ConferenceViews {
  /**
   * The query API's body for a conference (buildConferenceDetail) as UTF-8 JSON; null when the
   * conference is unknown. `signal` fires when the asking client has left: a read that has not
   * started yet should then be dropped (rejected with the signal's reason) rather than run.
   */
  conferenceDetailJson(appID: string, conferenceID: string, maxPoints: number, window: TimeWindow, signal?: AbortSignal): Promise<Uint8Array | null>;
  /** computeSummary(data, reason, now) of the whole conference; null when it is unknown. */
  conferenceSummary(ref: ConferenceRef, reason: 'terminated' | 'idle', now: number): Promise<ConferenceSummaryResult | null>;
  close(): Promise<void>;
}

export interface ConferenceViewsOptions {
  /** Worker threads (at least 1). */
  workers: number;
  /**
   * Query reads that may wait for a worker; one more is refused (ConferenceViewError `busy`).
   * Summary reads (one at a time per collector) always wait.
   */
  maxQueue: number;
  /**
   * A read not answered this long after it was asked for (a summary: after a worker took it) is
   * refused (`timeout`), and its worker replaced.
   */
  timeoutMs: number;
  /**
   * Each worker's V8 heap limit (MB; worker_threads `resourceLimits.maxOldGenerationSizeMb`). A read
   * that needs more ends its worker (`reader_failed`, and the worker is replaced) instead of growing
   * the process until the system ends it. Absent: Node's default, as large as the main thread's.
   */
  heapMb?: number;
  logger: Logger;
}

/** A time range of samples (epoch ms): `from <= t < to`; an absent end is open. */
export interface TimeWindow {
  from?: number;
  to?: number;
}

// ------------------------------------------------------------------ SQLite storage

export interface SqliteStorageOptions {
  /** A file path or ':memory:'. */
  path: string;
}

/** The parts of better-sqlite3's Database that tools and tests may use (keeps its types out of ours). */
export interface SqliteHandle {
  prepare(sql: string): {
    get(...params: unknown[]): unknown;
    all(...params: unknown[]): unknown[];
    run(...params: unknown[]): { changes: number };
  };
  pragma(source: string, options?: { simple?: boolean }): unknown;
  exec(sql: string): unknown;
}

export interface ReaderPoolStats {
  /** Worker threads serving now (not counting one being ended). */
  workers: number;
  /** Worker threads started since the pool was opened (replacements included). */
  started: number;
  /** Reads a worker is running. */
  running: number;
  /** Reads waiting for a worker. */
  queued: number;
  /** Reads handed to a worker since the pool was opened. */
  reads: number;
  /** Reads dropped before they ran because their client left (see conferenceDetailJson's signal). */
  dropped: number;
}

/**
 * The SQLite reader pool (./storage/readerPool.ts) as SqliteStorage.openViews() gives it: a few
 * worker threads, each with its own read-only connection to the database file, computing the
 * conference views off the main thread.
 */
export interface SqliteReaderPool extends ConferenceViews {
  stats(): ReaderPoolStats;
  /**
   * Tests and tools: terminates every worker that is running a read now, as a crash would end it
   * (its read fails with `reader_failed`; the worker is replaced). Returns how many.
   */
  terminateRunning(): number;
}

// ------------------------------------------------------------------ query API answers

export interface MetricSummary {
  avg: number | null;
  worst: number | null;
}

export interface StreamSummary {
  samples: number;
  bitrate: MetricSummary;
  fractionLoss: MetricSummary;
  rtt: MetricSummary;
  jitter: MetricSummary;
  mos: MetricSummary;
  /** The quality reported most often (ties go to the worse one). */
  quality: Quality | null;
  worstQuality: Quality | null;
}

export interface SeriesPoint {
  t: number;
  bitrate: number | null;
  fractionLoss: number | null;
  rtt: number | null;
  jitter: number | null;
  packetRate: number | null;
  audioLevel: number | null;
  frameRate: number | null;
  frameWidth: number | null;
  frameHeight: number | null;
  mos: number | null;
  quality: Quality | null;
}

export interface StreamView {
  sid: string;
  fabricID: string;
  key: string;
  ssrc: string | null;
  statsType: string | null;
  mediaType: string | null;
  userID: string | null;
  usageLabel: string | null;
  summary: StreamSummary;
  series: SeriesPoint[];
}

export interface FabricEventView {
  t: number;
  event: string;
  data: JsonObject | null;
}

export interface FabricView extends Omit<FabricRecord, 'attributes'> {
  attributes: JsonObject | null;
  /** In the order the client produced them. */
  events: FabricEventView[];
}

/** The columns the per-fabric rows of the detail (errors, custom events, custom stats) start with. */
export interface DetailRow {
  t: number;
  sid: string;
  userID: string;
  fabricID: string | null;
}

export interface ConferenceDetail {
  conferenceID: string;
  firstSeen: number;
  lastSeen: number;
  participants: ParticipantRecord[];
  fabrics: FabricView[];
  /** Events without a fabricID. */
  events: { t: number; sid: string; userID: string; event: string; data: JsonObject | null }[];
  errors: (DetailRow & {
    fn: string;
    category: string;
    name: string | null;
    message: string;
    localSDP?: string;
    remoteSDP?: string;
  })[];
  feedback: { t: number; sid: string; userID: string; rating: { overall: number; audio?: number; video?: number }; comment: string | null }[];
  customEvents: (DetailRow & { name: string; data: JsonObject | null })[];
  customStats: (DetailRow & { data: Record<string, number> })[];
  dropped: { t: number; sid: string; count: number; reason: string }[];
  /** The series and the per-stream summaries cover this window of time (?from, ?to); null ends are open. */
  window: { from: number | null; to: number | null };
  streams: StreamView[];
  summary: ConferenceSummary | null;
}

// ------------------------------------------------------------------ conference summaries

export interface MediaSummary {
  streams: number;
  /** Averages of the streams' averages; worst of the streams' worst values. */
  bitrate: MetricSummary;
  fractionLoss: MetricSummary;
  rtt: MetricSummary;
  jitter: MetricSummary;
}

export interface ConferenceSummary {
  computedAt: number;
  /** What triggered it: all fabrics terminated/failed, or the idle delay. */
  reason: 'terminated' | 'idle';
  firstSeen: number;
  lastSeen: number;
  durationMs: number;
  participantCount: number;
  fabricCount: number;
  fabricStates: Partial<Record<FabricState, number>>;
  setupDelay: { avg: number; max: number } | null;
  disruptions: number;
  errorCount: number;
  errorsByCategory: Record<string, number>;
  feedback: { count: number; overallAvg: number } | null;
  droppedSamples: number;
  streamCount: number;
  audio: MediaSummary | null;
  video: MediaSummary | null;
  /** The worst of the streams' prevailing qualities. */
  quality: Quality | null;
  worstStream: { sid: string; fabricID: string; key: string; userID: string | null; quality: Quality | null } | null;
}

// ------------------------------------------------------------------ the collector

export interface CollectorOptions {
  /** Apps allowed to send and read data. At least one. */
  apps: readonly AppCredentials[] | Readonly<Record<string, string>>;
  /** TCP port; 0 picks a free one. Default 8080. */
  port?: number;
  /** Interface to listen on. Default 127.0.0.1. */
  host?: string;
  /** SQLite file path or ':memory:' (default). Ignored when `storage` is given. */
  db?: string;
  /** A storage implementation to use instead of SQLite. Not closed by close(). */
  storage?: Storage;
  /** Also serve <repoRoot>/examples at /examples/ and <repoRoot>/packages at /packages/ (read-only). */
  serveExamples?: boolean;
  /** The monorepo root for serveExamples. Default: two folders above this package. */
  repoRoot?: string;
  /** Summarize a conference this long after its last data. Default 30000. */
  summaryDelayMs?: number;
  /** How often to look for conferences due for a summary. Default min(1 s, summaryDelayMs / 4). */
  summaryCheckIntervalMs?: number;
  /** Lifetime of collector-minted tokens. Default 1 h. */
  tokenTtlMs?: number;
  /** Accepted |now - ts| of signed token requests. Default 5 min. */
  tokenRequestMaxSkewMs?: number;
  /** Max serialized batch size. Default 1 MiB. */
  maxBatchBytes?: number;
  /** Max items per batch. Default 500. */
  maxBatchItems?: number;
  /**
   * Worker threads that read whole conferences (the query API's conference view, the summaries)
   * off the main thread, each with its own read-only connection to the SQLite file: a huge
   * conference then no longer stalls ingest and the other requests. Default 1; 0 reads in the main
   * thread. Only for a storage that can (SqliteStorage on a file in WAL mode): a ':memory:'
   * database, which no other connection can open, is always read in the main thread.
   */
  readerWorkers?: number;
  /** Conference views that may wait for a reader worker; one more gets 503 `busy` with Retry-After. Default 8. */
  readerQueue?: number;
  /**
   * A conference view not computed this long after it was asked for gets 503 `timeout` (its worker
   * is ended and replaced). Default 60000. Summaries wait in the same queue and have the same limit.
   */
  readerTimeoutMs?: number;
  /**
   * Each reader worker's JavaScript heap limit (MB). Without it every worker could grow as large as
   * the main thread may, so the process could use (1 + readerWorkers) times that and be ended by a
   * container's memory limit. A read that needs more gets 500 `reader_failed` (its worker is
   * replaced; the collector serves on). Default 3072: reading the README's large conference (2.52
   * million samples) was measured to need between 1.5 and 2 GB (see "Large conferences").
   */
  readerHeapMb?: number;
  /**
   * Failed authentications (wrong secret, forged signature, unknown app) per client address per
   * minute before that address gets 429 for the rest of the minute. Default 20; 0 turns it off.
   */
  authFailuresPerMinute?: number;
  /**
   * Behind a reverse proxy: take the client address from the last X-Forwarded-For entry (the one
   * the proxy added) for the auth limit and the logs. Only set it when a proxy always sets that
   * header, or clients could pick their own address. Default false.
   */
  trustProxy?: boolean;
  /**
   * The collector pings every WebSocket this often and closes one that answered neither the
   * previous ping nor sent anything since (a dead peer, or a socket that never reads). Browsers and
   * the `ws` package answer pings by themselves. Default 30000; 0 turns it off.
   */
  wsHeartbeatMs?: number;
  /**
   * WebSocket ingest connections open at once, in all (each holds a socket and buffers). Past it a
   * WebSocket upgrade is answered 503 `too_many_connections` with Retry-After; the SDK then backs
   * off, and falls back to HTTP ingest, which holds no connection and is not counted. Default 10000.
   */
  maxConnections?: number;
  /**
   * WebSocket ingest connections open at once from one client address (see trustProxy), refused
   * the same way past it. Many SDK clients can sit behind one NAT, each holding one. Default 1000.
   */
  maxConnectionsPerAddress?: number;
  logger?: Logger;
  /** Clock (ms since epoch); tests inject one. Default Date.now. */
  clock?: () => number;
}

export interface Collector {
  /** Base URL, e.g. http://127.0.0.1:8080/ (the dashboard). */
  url: string;
  port: number;
  host: string;
  storage: Storage;
  /** Runs a summary pass now and waits for it (tests, tools). */
  summarizeNow(): Promise<void>;
  close(): Promise<void>;
}

// ------------------------------------------------------------------ command line

export interface CliConfig {
  port: number;
  host: string;
  db: string;
  apps: AppCredentials[];
  /** True when no app was configured and the demo app is used. */
  demoApp: boolean;
  serveExamples: boolean;
  repoRoot: string | undefined;
  summaryDelayMs: number;
  /** Failed authentications per client address per minute before 429 (0: no limit). */
  authFailuresPerMinute: number;
  trustProxy: boolean;
  /** WebSocket ingest connections open at once, in all, before 503 too_many_connections. */
  maxConnections: number;
  /** The same from one client address. */
  maxConnectionsPerAddress: number;
  /** Worker threads reading whole conferences (0: read in the main thread). */
  readerWorkers: number;
  /** Conference reads that may wait for a reader worker before 503 busy. */
  readerQueue: number;
  readerTimeoutMs: number;
  /** Each reader worker's JavaScript heap limit (MB). */
  readerHeapMb: number;
  logLevel: LogLevel;
}

export type CliParse =
  | { kind: 'run'; config: CliConfig }
  | { kind: 'help'; text: string }
  | { kind: 'version' }
  | { kind: 'error'; message: string };

// The storage boundary of the collector. SQLite (./sqlite.ts) implements it today; a server
// database can implement the same interface later. Every method is async so such an
// implementation needs no change of the callers.
import type {
  CustomItem,
  CustomStatsItem,
  Direction,
  DroppedItem,
  ErrorItem,
  EventItem,
  FabricState,
  FeedbackItem,
  Item,
  JsonObject,
  RemoteEndpointType,
  StatsFields,
} from '../protocol';
import type { Logger } from '../logger';
import type { ConferenceSummary } from '../summary';

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

/** Stream keys starting with this are the collector's: validation refuses them from clients. */
export const RESERVED_KEY_PREFIX = '#';
/** Key under which a stats item's `connection` is stored among the stream samples. */
export const CONNECTION_KEY = `${RESERVED_KEY_PREFIX}connection`;

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
 * Implementations must give exactly what the in-thread functions of ../views.ts give for the same
 * data (they should call them). They refuse with a ConferenceViewError when they are busy, too
 * slow or broken.
 */
export interface ConferenceViews {
  /** The query API's body for a conference (buildConferenceDetail) as UTF-8 JSON; null when the conference is unknown. */
  conferenceDetailJson(appID: string, conferenceID: string, maxPoints: number, window: TimeWindow): Promise<Uint8Array | null>;
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
  /** A read not answered this long after it was asked for is refused (`timeout`), and its worker replaced. */
  timeoutMs: number;
  logger: Logger;
}

/** Why ConferenceViews refused a read: the HTTP status and code the query API answers with. */
export class ConferenceViewError extends Error {
  constructor(
    readonly code: 'busy' | 'timeout' | 'reader_failed' | 'closed',
    message: string,
    readonly status: 500 | 503,
    /** For `busy`: when to try again (s). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'ConferenceViewError';
  }
}

/** A time range of samples (epoch ms): `from <= t < to`; an absent end is open. */
export interface TimeWindow {
  from?: number;
  to?: number;
}

// Reading one conference from the SQLite schema of ./sqlite.ts. Shared by SqliteStorage (its own
// connection, in the caller's thread) and the reader worker (./readerWorker.ts: a read-only
// connection to the same file in a worker thread), so both read exactly the same way.
import type { Database as SqliteDatabase, Statement } from 'better-sqlite3';
import type {
  ConferenceData,
  ConferenceSummary,
  Direction,
  FabricRecord,
  FabricState,
  Item,
  JsonObject,
  ParticipantRecord,
  RemoteEndpointType,
  SampleRecord,
  StatsFields,
  StoredItem,
  TimeWindow,
} from '../types';

/** An open end of a sample window (t is epoch ms, far below). */
const OPEN_END = 1e300;

export interface ConferenceRow {
  conference_id: string;
  first_seen: number;
  last_seen: number;
  last_received: number;
  error_count: number;
  data_version: number;
  needs_summary: number;
  summary: string | null;
}
interface ItemRow {
  sid: string;
  user_id: string;
  received_at: number;
  body: string;
}
interface FabricRow {
  sid: string;
  fabric_id: string;
  local_user_id: string | null;
  remote_user_id: string | null;
  fabric_usage: string | null;
  remote_endpoint_type: string | null;
  direction: string | null;
  attributes: string | null;
  state: string;
  setup_delay: number | null;
  first_seen: number;
  last_seen: number;
}
interface SampleRow {
  sid: string;
  fabric_id: string;
  key: string;
  n: number;
  t: number;
  fields: string;
}

function toStored<T extends Item>(r: ItemRow): StoredItem<T> {
  return { sid: r.sid, userID: r.user_id, receivedAt: r.received_at, item: JSON.parse(r.body) as T };
}

/** Reads conferences through `db` (read-write or read-only); the schema must exist. */
export class SqliteConferenceReader {
  private readonly st: Record<'conference' | 'participants' | 'fabrics' | 'itemsOfKind' | 'eventsInOrder' | 'samples', Statement>;
  private readonly readTx: (appID: string, conferenceID: string, window: TimeWindow) => ConferenceData | null;

  constructor(db: SqliteDatabase) {
    const p = (sql: string): Statement => db.prepare(sql);
    this.st = {
      conference: p(`SELECT conference_id, first_seen, last_seen, last_received, error_count, data_version, needs_summary, summary
                     FROM conferences WHERE app_id = ? AND conference_id = ?`),
      participants: p(`SELECT user_id, first_seen, last_seen FROM participants WHERE app_id = ? AND conference_id = ?
                       ORDER BY first_seen, user_id`),
      fabrics: p(`SELECT sid, fabric_id, local_user_id, remote_user_id, fabric_usage, remote_endpoint_type, direction, attributes,
                    state, setup_delay, first_seen, last_seen
                  FROM fabrics WHERE app_id = ? AND conference_id = ? ORDER BY first_seen, sid, fabric_id`),
      itemsOfKind: p(`SELECT sid, user_id, received_at, body FROM items WHERE app_id = ? AND conference_id = ? AND kind = ?
                      ORDER BY t, sid, n`),
      eventsInOrder: p(`SELECT sid, user_id, received_at, body FROM items WHERE app_id = ? AND conference_id = ? AND kind = 'event'
                        ORDER BY sid, n`),
      samples: p(`SELECT sid, fabric_id, key, n, t, fields FROM samples WHERE app_id = ? AND conference_id = ? AND t >= ? AND t < ?
                  ORDER BY sid, fabric_id, key, n`),
    };
    // One read transaction: a consistent snapshot even while batches are committed.
    this.readTx = db.transaction((appID: string, conferenceID: string, window: TimeWindow) => this.readConference(appID, conferenceID, window));
  }

  /**
   * A conference's data, or null when it is unknown. With `window`, only the samples with
   * `from <= t < to` (ms; either end open when absent); everything else is whole.
   */
  read(appID: string, conferenceID: string, window: TimeWindow = {}): ConferenceData | null {
    return this.readTx(appID, conferenceID, window);
  }

  private readConference(appID: string, conferenceID: string, window: TimeWindow): ConferenceData | null {
    const c = this.st.conference.get(appID, conferenceID) as ConferenceRow | undefined;
    if (!c) return null;
    const items = <T extends Item>(kind: T['kind']): StoredItem<T>[] =>
      (this.st.itemsOfKind.all(appID, conferenceID, kind) as ItemRow[]).map(toStored<T>);
    const participants = (this.st.participants.all(appID, conferenceID) as { user_id: string; first_seen: number; last_seen: number }[]).map(
      (r): ParticipantRecord => ({ userID: r.user_id, firstSeen: r.first_seen, lastSeen: r.last_seen }),
    );
    const fabrics = (this.st.fabrics.all(appID, conferenceID) as FabricRow[]).map(
      (r): FabricRecord => ({
        sid: r.sid,
        fabricID: r.fabric_id,
        localUserID: r.local_user_id,
        remoteUserID: r.remote_user_id,
        fabricUsage: r.fabric_usage,
        remoteEndpointType: r.remote_endpoint_type as RemoteEndpointType | null,
        direction: r.direction as Direction | null,
        attributes: r.attributes === null ? null : (JSON.parse(r.attributes) as JsonObject),
        state: r.state as FabricState,
        setupDelay: r.setup_delay,
        firstSeen: r.first_seen,
        lastSeen: r.last_seen,
      }),
    );
    const samples = (this.st.samples.all(appID, conferenceID, window.from ?? -OPEN_END, window.to ?? OPEN_END) as SampleRow[]).map(
      (r): SampleRecord => ({ sid: r.sid, fabricID: r.fabric_id, key: r.key, n: r.n, t: r.t, fields: JSON.parse(r.fields) as StatsFields }),
    );
    return {
      conference: {
        conferenceID: c.conference_id,
        firstSeen: c.first_seen,
        lastSeen: c.last_seen,
        lastReceived: c.last_received,
        summary: c.summary === null ? null : (JSON.parse(c.summary) as ConferenceSummary),
        summaryStale: c.needs_summary === 1,
        dataVersion: c.data_version,
      },
      participants,
      fabrics,
      events: (this.st.eventsInOrder.all(appID, conferenceID) as ItemRow[]).map(toStored<Item & { kind: 'event' }>),
      errors: items('error'),
      feedback: items('feedback'),
      customEvents: items('custom'),
      customStats: items('customStats'),
      dropped: items('dropped'),
      samples,
    };
  }
}

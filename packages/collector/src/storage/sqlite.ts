// SQLite storage (better-sqlite3): a file in WAL mode with synchronous=FULL, or ':memory:'.
// better-sqlite3 is synchronous: each batch is one transaction that is committed (and fsynced)
// before ingest() resolves, so the caller acknowledges only durable data.
import Database from 'better-sqlite3';
import type { Database as SqliteDatabase, Statement } from 'better-sqlite3';
import { resolve } from 'node:path';
import { stateAfterEvent } from '../protocol';
import type {
  ConferenceData,
  ConferenceListEntry,
  ConferenceRef,
  ConferenceSummary,
  ConferenceViewsOptions,
  FabricItem,
  IngestContext,
  IngestResult,
  Item,
  SqliteHandle,
  SqliteReaderPool,
  SqliteStorageOptions,
  StatsDelta,
  StatsFields,
  Storage,
  TimeWindow,
} from '../types';
import { ReaderPool } from './readerPool';
import { SqliteConferenceReader, type ConferenceRow } from './sqliteRead';
import { CONNECTION_KEY } from './streamKeys';

const SCHEMA_VERSION = 1;
/** The WAL file is truncated back to this after a checkpoint (PRAGMA journal_size_limit). */
const WAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
-- A client session belongs to the first app that used it.
CREATE TABLE IF NOT EXISTS sessions (
  sid TEXT PRIMARY KEY,
  app_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  first_received INTEGER NOT NULL
);
-- Every accepted item, once: UNIQUE (app_id, sid, n) is the idempotency key.
CREATE TABLE IF NOT EXISTS items (
  id INTEGER PRIMARY KEY,
  app_id TEXT NOT NULL,
  sid TEXT NOT NULL,
  n INTEGER NOT NULL,
  kind TEXT NOT NULL,
  conference_id TEXT NOT NULL,
  fabric_id TEXT,
  user_id TEXT NOT NULL,
  t REAL NOT NULL,
  received_at INTEGER NOT NULL,
  body TEXT NOT NULL,
  UNIQUE (app_id, sid, n)
);
CREATE INDEX IF NOT EXISTS items_by_conference ON items (app_id, conference_id, kind, t);
CREATE TABLE IF NOT EXISTS conferences (
  app_id TEXT NOT NULL,
  conference_id TEXT NOT NULL,
  first_seen REAL NOT NULL,
  last_seen REAL NOT NULL,
  last_received INTEGER NOT NULL,
  error_count INTEGER NOT NULL DEFAULT 0,
  data_version INTEGER NOT NULL DEFAULT 0,
  needs_summary INTEGER NOT NULL DEFAULT 1,
  summary TEXT,
  summary_version INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (app_id, conference_id)
);
CREATE INDEX IF NOT EXISTS conferences_recent ON conferences (app_id, last_seen);
CREATE INDEX IF NOT EXISTS conferences_due ON conferences (needs_summary, last_received);
CREATE TABLE IF NOT EXISTS participants (
  app_id TEXT NOT NULL,
  conference_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  first_seen REAL NOT NULL,
  last_seen REAL NOT NULL,
  PRIMARY KEY (app_id, conference_id, user_id)
);
-- A fabric is one client session's peer connection: (sid, fabric_id) within a conference.
CREATE TABLE IF NOT EXISTS fabrics (
  app_id TEXT NOT NULL,
  conference_id TEXT NOT NULL,
  sid TEXT NOT NULL,
  fabric_id TEXT NOT NULL,
  local_user_id TEXT,
  remote_user_id TEXT,
  fabric_usage TEXT,
  remote_endpoint_type TEXT,
  direction TEXT,
  attributes TEXT,
  info_n INTEGER NOT NULL DEFAULT 0,
  state TEXT NOT NULL DEFAULT 'new',
  state_n INTEGER NOT NULL DEFAULT 0,
  setup_delay REAL,
  setup_n INTEGER,
  first_seen REAL NOT NULL,
  last_seen REAL NOT NULL,
  PRIMARY KEY (app_id, conference_id, sid, fabric_id)
);
-- Reconstructed stats samples; delta is what was sent, fields the carried-forward full sample.
-- The delta chain is per (sid, fabric_id, key) ordered by n, as the SDK coded it.
CREATE TABLE IF NOT EXISTS samples (
  app_id TEXT NOT NULL,
  sid TEXT NOT NULL,
  fabric_id TEXT NOT NULL,
  key TEXT NOT NULL,
  n INTEGER NOT NULL,
  conference_id TEXT NOT NULL,
  t REAL NOT NULL,
  delta TEXT NOT NULL,
  fields TEXT NOT NULL,
  PRIMARY KEY (app_id, sid, fabric_id, key, n)
);
-- By time within a conference: a query API window reads only its samples.
DROP INDEX IF EXISTS samples_by_conference;
CREATE INDEX IF NOT EXISTS samples_by_conference_t ON samples (app_id, conference_id, t);
-- Token nonces and third-party jtis already used.
CREATE TABLE IF NOT EXISTS used_once (
  app_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  value TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (app_id, kind, value)
);
CREATE INDEX IF NOT EXISTS used_once_expiry ON used_once (expires_at);
`;

interface SampleRow {
  n: number;
  fields: string;
}
interface LaterRow {
  n: number;
  delta: string;
}

/** Applies a delta to a full sample: values overwrite, null removes. */
export function applyDelta(base: StatsFields, delta: StatsDelta): StatsFields {
  const out: StatsFields = { ...base };
  for (const [k, v] of Object.entries(delta)) {
    if (v === null) delete out[k];
    else out[k] = v;
  }
  return out;
}

export class SqliteStorage implements Storage {
  private readonly sqlite: SqliteDatabase;
  private readonly st: Record<string, Statement>;
  private readonly ingestTx: (ctx: IngestContext, items: readonly Item[]) => IngestResult;
  private readonly reader: SqliteConferenceReader;
  private readonly pools = new Set<ReaderPool>();
  private closed = false;

  constructor(options: SqliteStorageOptions) {
    this.sqlite = new Database(options.path);
    this.sqlite.pragma('journal_mode = WAL');
    // FULL: a committed transaction survives a power loss, not only a crash of this process.
    this.sqlite.pragma('synchronous = FULL');
    this.sqlite.pragma('busy_timeout = 5000');
    // A checkpoint does not shrink the WAL file: SQLite reuses it from the start. Without a limit it
    // keeps the size of its largest burst (e.g. while a long read's snapshot held the checkpoint
    // back) for good; with one, the first commit after a complete checkpoint truncates it to this.
    this.sqlite.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT_BYTES}`);
    this.sqlite.exec(SCHEMA);
    const version = this.sqlite.prepare(`SELECT value FROM meta WHERE key = 'schema_version'`).get() as { value: string } | undefined;
    if (!version) {
      this.sqlite.prepare(`INSERT INTO meta (key, value) VALUES ('schema_version', ?)`).run(String(SCHEMA_VERSION));
    } else if (Number(version.value) !== SCHEMA_VERSION) {
      throw new Error(`collector: database schema version ${version.value} is not supported (expected ${SCHEMA_VERSION})`);
    }
    const p = (sql: string): Statement => this.sqlite.prepare(sql);
    this.st = {
      sessionOwner: p(`SELECT app_id FROM sessions WHERE sid = ?`),
      insertSession: p(`INSERT INTO sessions (sid, app_id, user_id, first_received) VALUES (?, ?, ?, ?)`),
      insertItem: p(`INSERT OR IGNORE INTO items (app_id, sid, n, kind, conference_id, fabric_id, user_id, t, received_at, body)
                     VALUES (@app, @sid, @n, @kind, @conf, @fabric, @user, @t, @received, @body)`),
      touchFabric: p(`INSERT INTO fabrics (app_id, conference_id, sid, fabric_id, first_seen, last_seen)
                      VALUES (@app, @conf, @sid, @fabric, @t, @t)
                      ON CONFLICT (app_id, conference_id, sid, fabric_id) DO UPDATE SET
                        first_seen = min(first_seen, excluded.first_seen), last_seen = max(last_seen, excluded.last_seen)`),
      fabricInfo: p(`UPDATE fabrics SET local_user_id = @local, remote_user_id = @remote, fabric_usage = @usage,
                       remote_endpoint_type = @endpoint, direction = @direction, attributes = @attributes, info_n = @n
                     WHERE app_id = @app AND conference_id = @conf AND sid = @sid AND fabric_id = @fabric AND info_n < @n`),
      fabricState: p(`UPDATE fabrics SET state = @state, state_n = @n
                      WHERE app_id = @app AND conference_id = @conf AND sid = @sid AND fabric_id = @fabric AND state_n < @n`),
      fabricSetup: p(`UPDATE fabrics SET setup_delay = @delay, setup_n = @n
                      WHERE app_id = @app AND conference_id = @conf AND sid = @sid AND fabric_id = @fabric
                        AND (setup_n IS NULL OR setup_n > @n)`),
      prevSample: p(`SELECT n, fields FROM samples WHERE app_id = ? AND sid = ? AND fabric_id = ? AND key = ? AND n < ?
                     ORDER BY n DESC LIMIT 1`),
      laterSamples: p(`SELECT n, delta FROM samples WHERE app_id = ? AND sid = ? AND fabric_id = ? AND key = ? AND n > ?
                       ORDER BY n ASC`),
      insertSample: p(`INSERT OR IGNORE INTO samples (app_id, sid, fabric_id, key, n, conference_id, t, delta, fields)
                       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      updateSampleFields: p(`UPDATE samples SET fields = ? WHERE app_id = ? AND sid = ? AND fabric_id = ? AND key = ? AND n = ?`),
      touchParticipant: p(`INSERT INTO participants (app_id, conference_id, user_id, first_seen, last_seen) VALUES (?, ?, ?, ?, ?)
                           ON CONFLICT (app_id, conference_id, user_id) DO UPDATE SET
                             first_seen = min(first_seen, excluded.first_seen), last_seen = max(last_seen, excluded.last_seen)`),
      touchConference: p(`INSERT INTO conferences (app_id, conference_id, first_seen, last_seen, last_received, error_count, data_version, needs_summary)
                          VALUES (@app, @conf, @first, @last, @received, @errors, 1, 1)
                          ON CONFLICT (app_id, conference_id) DO UPDATE SET
                            first_seen = min(first_seen, excluded.first_seen), last_seen = max(last_seen, excluded.last_seen),
                            last_received = max(last_received, excluded.last_received),
                            error_count = error_count + excluded.error_count,
                            data_version = data_version + 1, needs_summary = 1`),
      claim: p(`INSERT OR IGNORE INTO used_once (app_id, kind, value, expires_at) VALUES (?, ?, ?, ?)`),
      purge: p(`DELETE FROM used_once WHERE expires_at < ?`),
      listConferences: p(`SELECT c.conference_id, c.first_seen, c.last_seen, c.error_count, c.needs_summary, c.summary,
                            (SELECT COUNT(*) FROM participants x WHERE x.app_id = c.app_id AND x.conference_id = c.conference_id) AS participant_count,
                            (SELECT COUNT(*) FROM fabrics f WHERE f.app_id = c.app_id AND f.conference_id = c.conference_id) AS fabric_count
                          FROM conferences c WHERE c.app_id = ? ORDER BY c.last_seen DESC, c.conference_id LIMIT ?`),
      due: p(`SELECT c.app_id, c.conference_id, c.last_received,
                EXISTS (SELECT 1 FROM fabrics f WHERE f.app_id = c.app_id AND f.conference_id = c.conference_id) AS has_fabrics,
                EXISTS (SELECT 1 FROM fabrics f WHERE f.app_id = c.app_id AND f.conference_id = c.conference_id
                        AND f.state NOT IN ('terminated', 'failed')) AS has_open
              FROM conferences c WHERE c.needs_summary = 1`),
      saveSummary: p(`UPDATE conferences SET summary = @summary, summary_version = @version,
                        needs_summary = CASE WHEN data_version > @version THEN 1 ELSE 0 END
                      WHERE app_id = @app AND conference_id = @conf AND summary_version <= @version`),
    };
    this.ingestTx = this.sqlite.transaction((ctx: IngestContext, items: readonly Item[]) => this.ingestSync(ctx, items));
    this.reader = new SqliteConferenceReader(this.sqlite);
  }

  private ingestSync(ctx: IngestContext, items: readonly Item[]): IngestResult {
    const owner = this.st.sessionOwner!.get(ctx.sid) as { app_id: string } | undefined;
    if (owner && owner.app_id !== ctx.appID) {
      return { ok: false, error: 'sid_owned_by_other_app', message: 'this sid belongs to another app; start a new client session' };
    }
    if (!owner) this.st.insertSession!.run(ctx.sid, ctx.appID, ctx.userID, ctx.receivedAt);

    let stored = 0;
    const conferences = new Map<string, { first: number; last: number; errors: number; users: Map<string, [number, number]> }>();
    const touchUser = (users: Map<string, [number, number]>, user: string, t: number): void => {
      const r = users.get(user);
      if (r) {
        r[0] = Math.min(r[0], t);
        r[1] = Math.max(r[1], t);
      } else users.set(user, [t, t]);
    };

    for (const item of items) {
      const fabricID = 'fabricID' in item && item.fabricID !== undefined ? item.fabricID : null;
      const res = this.st.insertItem!.run({
        app: ctx.appID,
        sid: ctx.sid,
        n: item.n,
        kind: item.kind,
        conf: item.conferenceID,
        fabric: fabricID,
        user: ctx.userID,
        t: item.t,
        received: ctx.receivedAt,
        body: JSON.stringify(item),
      });
      if (res.changes === 0) continue; // already stored: acknowledged again, not stored twice
      stored++;
      let c = conferences.get(item.conferenceID);
      if (!c) {
        c = { first: item.t, last: item.t, errors: 0, users: new Map() };
        conferences.set(item.conferenceID, c);
      }
      c.first = Math.min(c.first, item.t);
      c.last = Math.max(c.last, item.t);
      touchUser(c.users, ctx.userID, item.t);

      const key = { app: ctx.appID, conf: item.conferenceID, sid: ctx.sid, fabric: fabricID, n: item.n };
      if (fabricID !== null) this.st.touchFabric!.run({ ...key, t: item.t });
      switch (item.kind) {
        case 'fabric':
          this.fabricInfo(key, item);
          if (item.remoteEndpointType === 'peer') touchUser(c.users, item.remoteUserID, item.t);
          break;
        case 'event': {
          if (fabricID === null) break;
          const state = stateAfterEvent(item.event);
          if (state) this.st.fabricState!.run({ ...key, state });
          const delay = item.data?.setupDelay;
          if (item.event === 'fabricSetup' && typeof delay === 'number') this.st.fabricSetup!.run({ ...key, delay });
          break;
        }
        case 'error':
          c.errors++;
          break;
        case 'stats':
          for (const s of item.streams) this.addSample(ctx, item.conferenceID, item.fabricID, s.key, item.n, item.t, s.fields);
          if (item.connection) {
            this.addSample(ctx, item.conferenceID, item.fabricID, CONNECTION_KEY, item.n, item.t, item.connection);
          }
          break;
        default:
          break;
      }
    }

    for (const [conf, c] of conferences) {
      this.st.touchConference!.run({
        app: ctx.appID,
        conf,
        first: c.first,
        last: c.last,
        received: ctx.receivedAt,
        errors: c.errors,
      });
      for (const [user, [first, last]] of c.users) this.st.touchParticipant!.run(ctx.appID, conf, user, first, last);
    }
    return {
      ok: true,
      acked: items.map((i) => i.n),
      stored,
      duplicates: items.length - stored,
      conferences: [...conferences.keys()],
    };
  }

  private fabricInfo(key: { app: string; conf: string; sid: string; fabric: string | null; n: number }, item: FabricItem): void {
    this.st.fabricInfo!.run({
      ...key,
      local: item.localUserID,
      remote: item.remoteUserID,
      usage: item.fabricUsage,
      endpoint: item.remoteEndpointType,
      direction: item.direction,
      attributes: item.attributes ? JSON.stringify(item.attributes) : null,
    });
  }

  /** Reconstructs the full sample of item n from the previous one; re-derives later ones if n arrived late. */
  private addSample(ctx: IngestContext, conf: string, fabricID: string, key: string, n: number, t: number, delta: StatsDelta): void {
    const { appID, sid } = ctx;
    const prev = this.st.prevSample!.get(appID, sid, fabricID, key, n) as SampleRow | undefined;
    let full = applyDelta(prev ? (JSON.parse(prev.fields) as StatsFields) : {}, delta);
    this.st.insertSample!.run(appID, sid, fabricID, key, n, conf, t, JSON.stringify(delta), JSON.stringify(full));
    const later = this.st.laterSamples!.all(appID, sid, fabricID, key, n) as LaterRow[];
    for (const row of later) {
      full = applyDelta(full, JSON.parse(row.delta) as StatsDelta);
      this.st.updateSampleFields!.run(JSON.stringify(full), appID, sid, fabricID, key, row.n);
    }
  }

  async ingest(ctx: IngestContext, items: readonly Item[]): Promise<IngestResult> {
    this.assertOpen();
    return this.ingestTx(ctx, items);
  }

  async claimOnce(appID: string, kind: 'nonce' | 'jti', value: string, expiresAt: number): Promise<boolean> {
    this.assertOpen();
    return this.st.claim!.run(appID, kind, value, expiresAt).changes === 1;
  }

  async purgeExpired(now: number): Promise<void> {
    this.assertOpen();
    this.st.purge!.run(now);
  }

  async listConferences(appID: string, limit = 1000): Promise<ConferenceListEntry[]> {
    this.assertOpen();
    const rows = this.st.listConferences!.all(appID, limit) as (ConferenceRow & { participant_count: number; fabric_count: number })[];
    return rows.map((r) => ({
      conferenceID: r.conference_id,
      firstSeen: r.first_seen,
      lastSeen: r.last_seen,
      participantCount: r.participant_count,
      fabricCount: r.fabric_count,
      errorCount: r.error_count,
      summarized: r.summary !== null && r.needs_summary === 0,
    }));
  }

  async getConference(appID: string, conferenceID: string, window: TimeWindow = {}): Promise<ConferenceData | null> {
    this.assertOpen();
    return this.reader.read(appID, conferenceID, window);
  }

  async conferencesDueForSummary(idleSince: number, limit: number): Promise<(ConferenceRef & { reason: 'terminated' | 'idle' })[]> {
    this.assertOpen();
    const rows = this.st.due!.all() as { app_id: string; conference_id: string; last_received: number; has_fabrics: number; has_open: number }[];
    const out: (ConferenceRef & { reason: 'terminated' | 'idle' })[] = [];
    for (const r of rows) {
      if (out.length >= limit) break;
      const allFinal = r.has_fabrics === 1 && r.has_open === 0;
      if (allFinal) out.push({ appID: r.app_id, conferenceID: r.conference_id, reason: 'terminated' });
      else if (r.last_received <= idleSince) out.push({ appID: r.app_id, conferenceID: r.conference_id, reason: 'idle' });
    }
    return out;
  }

  async saveSummary(ref: ConferenceRef, summary: ConferenceSummary, dataVersion: number): Promise<void> {
    this.assertOpen();
    this.st.saveSummary!.run({ app: ref.appID, conf: ref.conferenceID, summary: JSON.stringify(summary), version: dataVersion });
  }

  /**
   * Conference views computed in worker threads (see ConferenceViews and ./readerPool.ts): each
   * worker has its own read-only connection to this database file and reads and computes there, so
   * a huge conference does not stall this thread. null when that cannot work, and the caller reads
   * in its own thread as before: for an in-memory (or temporary) database, which no other
   * connection can open, and for a file that cannot be in WAL mode (a reader would block the
   * writer). close() of the storage also closes the pools it opened.
   */
  openViews(options: ConferenceViewsOptions): SqliteReaderPool | null {
    this.assertOpen();
    const name = this.sqlite.name;
    if (this.sqlite.memory || name === '' || (name.startsWith('file:') && /:memory:|[?&]mode=memory\b/.test(name))) return null;
    // The constructor asked for WAL; check that the file really is (enable it again if not).
    let mode = String(this.sqlite.pragma('journal_mode', { simple: true }));
    if (mode !== 'wal') mode = String(this.sqlite.pragma('journal_mode = WAL', { simple: true }));
    if (mode !== 'wal') {
      options.logger.warn('the database is not in WAL mode: conferences are read in the main thread', { journalMode: mode });
      return null;
    }
    const pool = new ReaderPool(resolve(name), options, () => this.pools.delete(pool));
    this.pools.add(pool);
    return pool;
  }

  /** The reader pools opened by openViews() and not closed yet (tests and tools). */
  get readerPools(): readonly SqliteReaderPool[] {
    return [...this.pools];
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.pools].map((p) => p.close()));
    this.sqlite.close();
  }

  /** The underlying database, for inspection by tools and tests. */
  get db(): SqliteHandle {
    return this.sqlite as unknown as SqliteHandle;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('collector: storage is closed');
  }
}

export function createSqliteStorage(path: string): SqliteStorage {
  return new SqliteStorage({ path });
}

// A reader worker of the SQLite reader pool (./readerPool.ts): a read-only connection to the
// collector's database file, reading one conference at a time and computing, with the same
// functions as the main thread (../views.ts), the query API's body (posted as UTF-8 JSON, its
// buffer transferred, not copied) or the conference summary. It never writes.
// Built on its own as dist/readerWorker.mjs (see rollup.config.mjs).
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import { conferenceDetailJson, conferenceSummaryOf } from '../views';
import type { ReaderReply, ReaderRequest, ReaderWorkerData } from './readerPool';
import { SqliteConferenceReader } from './sqliteRead';

const port = parentPort;
if (!port) throw new Error('collector: readerWorker runs in a worker thread of the reader pool');
const { path } = workerData as ReaderWorkerData;

// Read-only: this connection cannot write, whatever happens. The writer keeps the file in WAL mode,
// where this reader's snapshot and the writer's commits do not wait for each other.
const db = new Database(path, { readonly: true, fileMustExist: true });
db.pragma('busy_timeout = 5000');
const reader = new SqliteConferenceReader(db);

const post = (reply: ReaderReply, transfer: ArrayBuffer[] = []): void => port.postMessage(reply, transfer);

port.on('message', (request: ReaderRequest) => {
  try {
    if (request.op === 'detail') {
      const data = reader.read(request.appID, request.conferenceID, request.window);
      const json = data && conferenceDetailJson(data, request.maxPoints, request.window);
      post({ type: 'detail', id: request.id, json }, json ? [json.buffer as ArrayBuffer] : []);
    } else {
      const data = reader.read(request.appID, request.conferenceID);
      post({ type: 'summary', id: request.id, result: data && conferenceSummaryOf(data, request.reason, request.now) });
    }
  } catch (e) {
    post({ type: 'failed', id: request.id, message: e instanceof Error ? e.message : String(e) });
  }
});
post({ type: 'ready' });

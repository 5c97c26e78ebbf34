// The SQLite reader pool: a few worker threads (./readerWorker.ts), each with its own read-only
// connection to the collector's database file (WAL mode: readers and the writer do not block each
// other), that read a conference AND compute its query-API body or summary, and post back only that
// result. The main thread keeps the writes and stays free for ingest, tokens and other queries.
//
// Bounded: `workers` threads, each running one read at a time; at most `maxQueue` query reads wait
// (one more: `busy`, 503 with Retry-After); a read not answered within `timeoutMs` is refused
// (`timeout`) and, if it was running, its worker is terminated and replaced. A query read's time
// counts from when it was asked for (its client waits); a summary's from when a worker takes it:
// nobody waits for it, and counting its wait would let a few slow queries time out every summary.
// A worker that crashes or exits fails its read (`reader_failed`, 500) and is replaced; so does one
// that runs out of memory: each worker's V8 heap is capped (`heapMb`, resourceLimits), so one huge
// read ends that worker, not the whole process. A worker that cannot start (it exits before opening
// the database, or `new Worker()` throws) delays the next start; the reads that no live worker can
// serve are failed then. close() terminates every worker.
// A query read whose AbortSignal fires (its client left) while it waits is dropped from the queue,
// never run; one already running is left to finish (ending the worker would cost a restart).
import { getHeapStatistics } from 'node:v8';
import { isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';
import type { ConferenceRef, ConferenceSummaryResult, ConferenceViewsOptions, ReaderPoolStats, SqliteReaderPool, TimeWindow } from '../types';
import { ConferenceViewError } from './conferenceViewError';

/** What the pool gives a worker at start. */
export interface ReaderWorkerData {
  /** Absolute path of the SQLite file. */
  path: string;
}

export type ReaderRequest =
  | { id: number; op: 'detail'; appID: string; conferenceID: string; maxPoints: number; window: TimeWindow }
  | { id: number; op: 'summary'; appID: string; conferenceID: string; reason: 'terminated' | 'idle'; now: number };

export type ReaderReply =
  | { type: 'ready' }
  | { type: 'detail'; id: number; json: Uint8Array | null }
  | { type: 'summary'; id: number; result: ConferenceSummaryResult | null }
  | { type: 'failed'; id: number; message: string };

/** Tests only: how the pool creates a worker thread (default: `new Worker(entry, options)`). */
export interface ReaderPoolHooks {
  createWorker?(entry: URL, options: WorkerOptions): Worker;
}

type WithoutId<R> = R extends unknown ? Omit<R, 'id'> : never;
type RequestBody = WithoutId<ReaderRequest>;

interface Job {
  request: ReaderRequest;
  resolve(value: unknown): void;
  reject(error: Error): void;
  /** Its `timeoutMs` (a query read: from the ask; a summary: set when a worker takes it). */
  timer: ReturnType<typeof setTimeout> | null;
  settled: boolean;
  /** When a worker got it (ms). */
  startedAt: number;
  /** Stops listening to the read's AbortSignal (none: nothing to stop). */
  unlisten(): void;
}

interface Slot {
  worker: Worker;
  job: Job | null;
  /** The worker opened the database. */
  ready: boolean;
  /** Why the pool is ending this worker (its late answers are ignored); null while it serves. */
  ending: 'timeout' | 'closed' | 'terminated' | null;
  error: Error | null;
}

/**
 * The worker's entry. From dist/ (the library as built): dist/readerWorker.mjs, next to the bundle
 * this code is in. From the TypeScript source (vitest runs it so): readerWorker.dev.mjs, which
 * compiles the worker's TypeScript with esbuild as it loads (a development dependency; src/ is not
 * published).
 */
function workerEntry(): URL {
  const fromSource = fileURLToPath(import.meta.url).endsWith('.ts');
  return new URL(fromSource ? './readerWorker.dev.mjs' : './readerWorker.mjs', import.meta.url);
}

/**
 * A reader worker's heap limit (MB) when the collector's readerHeapMb / --reader-heap-mb does not
 * say: 3072 (see the measurement in the README, "Large conferences"), but never more than this
 * process's own heap limit, which Node sizes to the machine or container.
 */
export const DEFAULT_READER_HEAP_MB = Math.min(3072, Math.floor(getHeapStatistics().heap_size_limit / 2 ** 20));

const MAX_RETRY_AFTER_S = 60;
const MAX_START_BACKOFF_MS = 30_000;

export class ReaderPool implements SqliteReaderPool {
  private readonly slots = new Set<Slot>();
  private readonly queue: Job[] = [];
  private nextId = 1;
  private started = 0;
  private reads = 0;
  private dropped = 0;
  private closing: Promise<void> | null = null;
  /** Workers that exited before opening the database, in a row; past one, starts are delayed. */
  private startFailures = 0;
  private noStartBefore = 0;
  private lastStartError = '';
  /** A running average of how long a read takes (ms), for Retry-After. */
  private averageMs = 1000;

  constructor(
    private readonly path: string,
    private readonly o: ConferenceViewsOptions,
    private readonly onClosed: () => void = () => {},
    private readonly hooks: ReaderPoolHooks = {},
  ) {
    if (!isAbsolute(path)) throw new Error('collector: the reader pool needs an absolute database path');
    if (!(Number.isInteger(o.workers) && o.workers >= 1)) throw new Error('collector: reader workers must be an integer >= 1');
    if (!(Number.isInteger(o.maxQueue) && o.maxQueue >= 0)) throw new Error('collector: the reader queue must be an integer >= 0');
    if (!(o.timeoutMs > 0)) throw new Error('collector: the reader timeout must be > 0');
    if (o.heapMb !== undefined && !(Number.isInteger(o.heapMb) && o.heapMb >= 1)) throw new Error('collector: the reader heap limit must be an integer >= 1 (MB)');
  }

  conferenceDetailJson(appID: string, conferenceID: string, maxPoints: number, window: TimeWindow, signal?: AbortSignal): Promise<Uint8Array | null> {
    return this.submit({ op: 'detail', appID, conferenceID, maxPoints, window: { ...window } }, true, signal) as Promise<Uint8Array | null>;
  }

  conferenceSummary(ref: ConferenceRef, reason: 'terminated' | 'idle', now: number): Promise<ConferenceSummaryResult | null> {
    return this.submit({ op: 'summary', appID: ref.appID, conferenceID: ref.conferenceID, reason, now }, false) as Promise<ConferenceSummaryResult | null>;
  }

  stats(): ReaderPoolStats {
    let workers = 0;
    let running = 0;
    for (const s of this.slots) {
      if (s.ending) continue;
      workers++;
      if (s.job) running++;
    }
    return { workers, started: this.started, running, queued: this.queue.length, reads: this.reads, dropped: this.dropped };
  }

  /**
   * Tests and tools: terminates every worker that is running a read now, as a crash would end it
   * (its read fails with `reader_failed`; the worker is replaced). Returns how many.
   */
  terminateRunning(): number {
    let n = 0;
    for (const s of this.slots) {
      if (!s.job || s.ending) continue;
      s.ending = 'terminated';
      void s.worker.terminate();
      n++;
    }
    return n;
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const job of this.queue.splice(0)) this.settle(job, null, closedError());
      const exits = [...this.slots].map((s) => {
        s.ending ??= 'closed';
        return s.worker.terminate();
      });
      await Promise.allSettled(exits);
      this.onClosed();
    })();
    return this.closing;
  }

  // ------------------------------------------------------------------ internals

  private submit(body: RequestBody, bounded: boolean, signal?: AbortSignal): Promise<unknown> {
    if (this.closing) return Promise.reject(closedError());
    if (signal?.aborted) {
      this.dropped++;
      return Promise.reject(abortError(signal));
    }
    const wait = this.noStartBefore - Date.now();
    if (wait > 0 && this.slots.size === 0) {
      return Promise.reject(
        new ConferenceViewError('reader_failed', `the conference reader could not start (${this.lastStartError}); retrying in ${Math.ceil(wait / 1000)} s`, 500),
      );
    }
    if (bounded && this.queue.length >= this.o.maxQueue && !this.hasIdleCapacity()) {
      const running = this.stats().running;
      const seconds = Math.min(MAX_RETRY_AFTER_S, Math.max(1, Math.ceil((this.averageMs * (this.queue.length + running)) / this.o.workers / 1000)));
      return Promise.reject(
        new ConferenceViewError('busy', `the collector is busy reading other conferences (${running} reading, ${this.queue.length} waiting): try again in ${seconds} s`, 503, seconds),
      );
    }
    return new Promise((resolve, reject) => {
      const request = { ...body, id: this.nextId++ } as ReaderRequest;
      const job: Job = { request, resolve, reject, settled: false, startedAt: 0, timer: null, unlisten: () => {} };
      if (bounded) this.startTimer(job);
      if (signal) {
        const onAbort = (): void => this.drop(job, abortError(signal));
        signal.addEventListener('abort', onAbort, { once: true });
        job.unlisten = () => signal.removeEventListener('abort', onAbort);
      }
      this.queue.push(job);
      this.pump();
    });
  }

  /** A worker is free now, or one can be started now. */
  private hasIdleCapacity(): boolean {
    return this.canStart() || this.idleSlot() !== null;
  }

  /** The pool is below `workers` and starts are not delayed after a failure. */
  private canStart(): boolean {
    return this.slots.size < this.o.workers && Date.now() >= this.noStartBefore;
  }

  /** A live worker with no read. */
  private idleSlot(): Slot | null {
    for (const s of this.slots) if (!s.job && !s.ending) return s;
    return null;
  }

  /** Hands waiting reads to idle workers, starting workers (up to `workers`) as needed. */
  private pump(): void {
    while (this.queue.length > 0 && !this.closing) {
      const slot = this.idleSlot() ?? (this.canStart() ? this.spawn() : null);
      if (!slot) return;
      const job = this.queue.shift()!;
      slot.job = job;
      if (!job.timer) this.startTimer(job);
      job.startedAt = Date.now();
      this.reads++;
      slot.worker.postMessage(job.request);
    }
  }

  /**
   * Starts a worker; null when `new Worker()` throws (no thread could be created, a missing worker
   * file...): that is a start failure like a worker exiting before it opened the database.
   */
  private spawn(): Slot | null {
    const options: WorkerOptions = {
      workerData: { path: this.path } satisfies ReaderWorkerData,
      ...(this.o.heapMb === undefined ? {} : { resourceLimits: { maxOldGenerationSizeMb: this.o.heapMb } }),
    };
    let worker: Worker;
    try {
      worker = this.hooks.createWorker ? this.hooks.createWorker(workerEntry(), options) : new Worker(workerEntry(), options);
    } catch (e) {
      const what = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      this.o.logger.error('conference reader could not be started', { error: what });
      this.startFailed(what, null);
      return null;
    }
    const slot: Slot = { worker, job: null, ready: false, ending: null, error: null };
    worker.on('message', (m: ReaderReply) => this.onMessage(slot, m));
    worker.on('error', (e: Error) => {
      slot.error = e;
    });
    worker.on('exit', (code: number) => this.onExit(slot, code));
    this.slots.add(slot);
    this.started++;
    return slot;
  }

  private onMessage(slot: Slot, m: ReaderReply): void {
    if (slot.ending) return; // ended by the pool: its read was (or will be) answered otherwise
    if (m.type === 'ready') {
      slot.ready = true;
      this.startFailures = 0;
      return;
    }
    const job = slot.job;
    if (!job || job.request.id !== m.id) return;
    slot.job = null;
    this.averageMs = this.averageMs * 0.7 + (Date.now() - job.startedAt) * 0.3;
    if (m.type === 'failed') this.settle(job, null, new Error(`conference read failed: ${m.message}`));
    else this.settle(job, m.type === 'detail' ? m.json : m.result, null);
    this.pump();
  }

  private onExit(slot: Slot, code: number): void {
    this.slots.delete(slot);
    const job = slot.job;
    slot.job = null;
    const outOfMemory = (slot.error as NodeJS.ErrnoException | null)?.code === 'ERR_WORKER_OUT_OF_MEMORY';
    const what = slot.error ? `${slot.error.name}: ${slot.error.message}` : `exit code ${code}`;
    if (slot.ending === 'closed' || this.closing) {
      if (job) this.settle(job, null, closedError());
      return;
    }
    if (slot.ending !== 'timeout') {
      this.o.logger.error('conference reader stopped', {
        error: what,
        ...(job ? requestFields(job.request) : {}),
        ending: slot.ending ?? (outOfMemory ? 'out of memory' : 'crash'),
        ...(outOfMemory && this.o.heapMb !== undefined ? { heapMb: this.o.heapMb } : {}),
      });
    }
    if (!slot.ready && slot.ending === null) {
      // It never opened the database: the next start would likely fail the same way.
      this.startFailed(outOfMemory ? `${what}; ${this.heapHint()}` : what, job);
      return;
    }
    if (job) {
      const message = outOfMemory
        ? `reading this conference needed more memory than a reader may use (${this.heapHint()})${job.request.op === 'detail' ? ': read it in smaller windows (?from=&to=), or raise --reader-heap-mb' : ''}; a new reader was started`
        : `the conference reader stopped while reading this conference (${what}); a new one was started`;
      this.settle(job, null, new ConferenceViewError('reader_failed', message, 500));
    }
    // Replaced at once, so the pool is back to its size for the next reads (pump() starts it).
    if (this.canStart()) this.spawn();
    this.pump();
  }

  private heapHint(): string {
    return this.o.heapMb === undefined ? 'its heap limit' : `--reader-heap-mb ${this.o.heapMb} MB`;
  }

  /**
   * A worker could not start (it exited before opening the database, or could not be created): the
   * next start would likely fail the same way, so it is delayed (1 s, doubling, at most 30 s). Its
   * read fails, and so do the waiting ones when no other worker is left to serve them.
   */
  private startFailed(what: string, job: Job | null): void {
    this.startFailures++;
    this.lastStartError = what;
    this.noStartBefore = Date.now() + Math.min(MAX_START_BACKOFF_MS, 1000 * 2 ** (this.startFailures - 1));
    const serving = [...this.slots].some((s) => !s.ending);
    for (const failed of [...(job ? [job] : []), ...(serving ? [] : this.queue.splice(0))]) {
      this.settle(failed, null, new ConferenceViewError('reader_failed', `the conference reader could not start (${what})`, 500));
    }
  }

  private startTimer(job: Job): void {
    job.timer = setTimeout(() => this.expire(job), this.o.timeoutMs);
    job.timer.unref();
  }

  /** A read's time is up: it is refused; a worker still running it is terminated (and replaced). */
  private expire(job: Job): void {
    if (job.settled) return;
    const waiting = this.queue.indexOf(job);
    if (waiting >= 0) this.queue.splice(waiting, 1);
    for (const s of this.slots) {
      if (s.job === job && !s.ending) {
        s.ending = 'timeout';
        void s.worker.terminate();
      }
    }
    this.o.logger.warn('conference read timed out', { ...requestFields(job.request), timeoutMs: this.o.timeoutMs, waited: waiting >= 0 });
    const hint = job.request.op === 'detail' ? ': read it in smaller windows (?from=&to=)' : '';
    this.settle(job, null, new ConferenceViewError('timeout', `reading this conference took longer than ${this.o.timeoutMs} ms${hint}`, 503));
  }

  /** The read's client left: a read still waiting is taken out of the queue; a running one is left to finish. */
  private drop(job: Job, error: Error): void {
    const waiting = this.queue.indexOf(job);
    if (waiting < 0) return;
    this.queue.splice(waiting, 1);
    this.dropped++;
    this.settle(job, null, error);
  }

  private settle(job: Job, value: unknown, error: Error | null): void {
    if (job.settled) return;
    job.settled = true;
    if (job.timer) clearTimeout(job.timer);
    job.unlisten();
    if (error) job.reject(error);
    else job.resolve(value);
  }
}

/** The signal's reason when it is an Error (AbortSignal's default is a DOMException `AbortError`, which is one). */
function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new Error('the conference read was aborted');
}

function closedError(): ConferenceViewError {
  return new ConferenceViewError('closed', 'the collector is shutting down', 503);
}

function requestFields(r: ReaderRequest): Record<string, string | number> {
  return { op: r.op, appID: r.appID, conferenceID: r.conferenceID };
}

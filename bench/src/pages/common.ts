// In-page helpers: the recorded fixture, a fake RTCPeerConnection whose getStats() resolves to the
// recorded report (a Map by id, as browsers give), a fake WebSocket that records what an SDK would
// put on the wire, and the timing loop shared by every SDK so that they are measured the same way.

export type Entry = Record<string, unknown> & { id: string; type: string; timestamp: number };

export interface PageFixture {
  name: string;
  description: string;
  localSDP: string;
  remoteSDP: string;
  polls: Entry[][];
}

/** The real clock, saved before any page replaces performance.now (callstats-js' virtual clock). */
export const realNow: () => number = performance.now.bind(performance);

export async function fetchFixture(name: string): Promise<PageFixture> {
  const r = await fetch(`/fx/${name}.json`);
  if (!r.ok) throw new Error(`fixture ${name}: HTTP ${r.status}`);
  return (await r.json()) as PageFixture;
}

/** A fresh report (new Map, new entry objects) so that no SDK sees what another one mutated. */
export function reportOf(entries: readonly Entry[]): Map<string, Entry> {
  const m = new Map<string, Entry>();
  for (const e of entries) m.set(e.id, { ...e });
  return m;
}

// ---- fake RTCPeerConnection --------------------------------------------------------------------

export class FakePeerConnection extends EventTarget {
  /** The next report getStats() resolves to (set by the timing loop before each poll). */
  static nextReport: Map<string, Entry> = new Map();
  static sdp: { local: string; remote: string } = { local: '', remote: '' };
  static getStatsCalls = 0;

  connectionState = 'connected';
  iceConnectionState = 'connected';
  iceGatheringState = 'complete';
  signalingState = 'stable';
  localDescription: { type: string; sdp: string } | null;
  remoteDescription: { type: string; sdp: string } | null;
  currentLocalDescription: { type: string; sdp: string } | null;
  currentRemoteDescription: { type: string; sdp: string } | null;
  onicecandidate = null;
  ontrack = null;
  onconnectionstatechange = null;
  oniceconnectionstatechange = null;
  onsignalingstatechange = null;
  onnegotiationneeded = null;
  ondatachannel = null;

  constructor(_config?: unknown, _constraints?: unknown) {
    super();
    this.localDescription = { type: 'offer', sdp: FakePeerConnection.sdp.local };
    this.remoteDescription = { type: 'answer', sdp: FakePeerConnection.sdp.remote };
    this.currentLocalDescription = this.localDescription;
    this.currentRemoteDescription = this.remoteDescription;
  }

  getStats(_selector?: unknown): Promise<Map<string, Entry>> {
    FakePeerConnection.getStatsCalls++;
    return Promise.resolve(FakePeerConnection.nextReport);
  }
  getConfiguration(): RTCConfiguration {
    return { iceServers: [] };
  }
  getSenders(): unknown[] {
    return [];
  }
  getReceivers(): unknown[] {
    return [];
  }
  getTransceivers(): unknown[] {
    return [];
  }
  getLocalStreams(): unknown[] {
    return [];
  }
  getRemoteStreams(): unknown[] {
    return [];
  }
  close(): void {
    this.signalingState = 'closed';
    this.connectionState = 'closed';
    this.iceConnectionState = 'closed';
  }
}

// ---- fake WebSocket ----------------------------------------------------------------------------

export interface WsServerBehaviour {
  /** Messages the fake server sends right after open. */
  hello?: (url: string) => string[];
  /** Answer to a client message (undefined: none), delivered on a later task. */
  reply?: (data: string) => string | undefined;
}

/** A WebSocket stand-in: opens on the next task, records every frame it is given. */
export class FakeWebSocket extends EventTarget {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;
  readonly CONNECTING = 0;
  readonly OPEN = 1;
  readonly CLOSING = 2;
  readonly CLOSED = 3;
  static server: WsServerBehaviour = {};
  /** Every frame sent, when recording. */
  static frames: string[] = [];
  static recording = false;
  static sentBytes = 0;
  static sentFrames = 0;

  readyState = 0;
  protocol = '';
  extensions = '';
  bufferedAmount = 0;
  binaryType = 'blob';
  onopen: ((ev: Event) => void) | null = null;
  onmessage: ((ev: MessageEvent) => void) | null = null;
  onclose: ((ev: CloseEvent) => void) | null = null;
  onerror: ((ev: Event) => void) | null = null;

  constructor(readonly url: string, _protocols?: unknown) {
    super();
    setTimeout(() => {
      if (this.readyState !== 0) return;
      this.readyState = 1;
      const ev = new Event('open');
      this.onopen?.(ev);
      this.dispatchEvent(ev);
      for (const m of FakeWebSocket.server.hello?.(url) ?? []) this.deliver(m);
    }, 0);
  }

  send(data: string | ArrayBufferLike | Blob | ArrayBufferView): void {
    if (this.readyState !== 1) throw new DOMException('WebSocket is not open', 'InvalidStateError');
    const text = typeof data === 'string' ? data : '';
    FakeWebSocket.sentFrames++;
    if (FakeWebSocket.recording) FakeWebSocket.frames.push(text);
    // Everything else happens on a later task, as a real socket's I/O would: never inside the
    // caller's (timed) stack.
    setTimeout(() => {
      FakeWebSocket.sentBytes += new TextEncoder().encode(text).length;
      const answer = FakeWebSocket.server.reply?.(text);
      if (answer !== undefined) this.deliver(answer);
    }, 0);
  }

  deliver(text: string): void {
    if (this.readyState !== 1) return;
    const ev = new MessageEvent('message', { data: text });
    this.onmessage?.(ev);
    this.dispatchEvent(ev);
  }

  close(code = 1000, reason = ''): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    const ev = new CloseEvent('close', { code, reason, wasClean: true });
    setTimeout(() => {
      this.onclose?.(ev);
      this.dispatchEvent(ev);
    }, 0);
  }
}

/** The Callmetry collector's side of the protocol: acknowledges every item of a batch. */
export function callmetryServer(): WsServerBehaviour {
  return {
    reply(data) {
      try {
        const m = JSON.parse(data) as { type?: string; id?: number; items?: Array<{ n: number }> };
        if (m.type === 'batch') return JSON.stringify({ type: 'ack', id: m.id, acked: (m.items ?? []).map((i) => i.n) });
        if (m.type === 'ping') return '{"type":"pong"}';
      } catch {
        // not JSON: no answer
      }
      return undefined;
    },
  };
}

/** window.fetch answering the collector's POST /v1/token (the SDK signs it; we do not check). */
export function installTokenFetch(): void {
  const orig = window.fetch.bind(window);
  window.fetch = (async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (url.includes('/v1/token')) {
      return new Response(JSON.stringify({ token: 'bench.token.sig', expiresAt: Date.now() + 3_600_000 }), {
        status: 200,
        headers: { 'content-type': 'application/json' },
      });
    }
    return orig(input, init);
  }) as typeof fetch;
}

/** setInterval calls with this delay are captured (not scheduled), so the harness can fire them. */
export function captureIntervals(delayMs: number): Array<() => unknown> {
  const captured: Array<() => unknown> = [];
  const orig = window.setInterval.bind(window);
  (window as unknown as { setInterval: unknown }).setInterval = (fn: TimerHandler, delay?: number, ...args: unknown[]): number => {
    if (delay === delayMs && typeof fn === 'function') {
      captured.push(() => (fn as (...a: unknown[]) => unknown)(...args));
      return 900_000 + captured.length;
    }
    return orig(fn, delay, ...args);
  };
  return captured;
}

export const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 0));
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Lets the promise chains an SDK started settle (a few microtask turns, no task). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 8; i++) await Promise.resolve();
}

// ---- the timing loop ---------------------------------------------------------------------------

export interface TimingOptions {
  /** One poll of the SDK: getStats resolves to `report` (FakePeerConnection.nextReport). */
  poll: (report: Map<string, Entry>, index: number) => unknown;
  polls: Entry[][];
  /** Called before each poll (e.g. to advance a virtual clock). */
  beforePoll?: (index: number) => void;
  warmupPasses?: number;
  minPasses?: number;
  maxPasses?: number;
  /** Stop adding passes after this much wall time (ms). */
  budgetMs?: number;
}

export interface TimingResult {
  /** Per-poll microseconds, one value per pass (mean of that pass' timed polls). */
  perPollUs: number[];
  passes: number;
  timedPollsPerPass: number;
  resolutionUs: number;
}

/**
 * The recorded session is replayed in passes on ONE long-lived SDK instance (as in a real call).
 * In every pass the first poll (the counters restart there: a wrap-around) is not timed; the
 * other N-1 polls are timed together and divided by N-1 (performance.now's 5 us resolution is too
 * coarse for one poll). Reports are fresh copies made outside the timed region.
 */
export async function timePolls(o: TimingOptions): Promise<TimingResult> {
  const warm = o.warmupPasses ?? 10;
  const minPasses = o.minPasses ?? 30;
  const maxPasses = o.maxPasses ?? 400;
  const budget = o.budgetMs ?? 2500;
  const n = o.polls.length;
  const perPollUs: number[] = [];
  const start = realNow();
  let passes = 0;
  let index = 0;
  for (let pass = 0; ; pass++) {
    const reports = o.polls.map((p) => reportOf(p));
    // Untimed first poll of the pass.
    o.beforePoll?.(index);
    FakePeerConnection.nextReport = reports[0] as Map<string, Entry>;
    await o.poll(reports[0] as Map<string, Entry>, index++);
    await settle();
    const t0 = realNow();
    for (let i = 1; i < n; i++) {
      o.beforePoll?.(index);
      const r = reports[i] as Map<string, Entry>;
      FakePeerConnection.nextReport = r;
      await o.poll(r, index++);
    }
    await settle();
    const dt = realNow() - t0;
    // Let timers the SDK scheduled run between passes (not timed), as they would between polls.
    await tick();
    if (pass < warm) continue;
    perPollUs.push((dt * 1000) / (n - 1));
    passes++;
    const elapsed = realNow() - start;
    if (passes >= maxPasses || (passes >= minPasses && elapsed > budget)) break;
  }
  return { perPollUs, passes, timedPollsPerPass: n - 1, resolutionUs: crossOriginIsolated ? 5 : 100 };
}

export function register(api: Record<string, (arg: never) => unknown>): void {
  (globalThis as unknown as { bench: unknown }).bench = api;
}

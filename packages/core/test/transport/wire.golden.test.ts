/**
 * The transport's exact bytes on the wire, pinned by golden files (__golden__/<scenario>.txt): every
 * WebSocket frame, and every log and status line, in order, for recorded calls replayed through the SDK.
 *
 * Why: what the transport sends is what collectors already deployed must read (docs/protocol.md), and
 * its encoding (sanitizer, delta coding, offline buffer with drops and merged entries, batching) is easy
 * to change by accident while optimizing: a field order, a `null` left out, an entry merged differently.
 * The other transport tests check meaning (reconstruction, acknowledgements); this one checks bytes.
 *
 * How: the recorded Chromium reports (fixtures/chromium: a p2p call, an SFU receiving 20 streams) go
 * through createMonitor() -> fabric (a FakePeerConnection answering each recorded poll) -> transport ->
 * a scripted WebSocket, on fake timers (Date.now starts at START; polls by pollNow() only). The
 * session id (random) and fabric ids (time and counter) are masked. Two scenarios send hostile items
 * (invalid values, unknown fields, addresses, other input shapes, an error with an SDP) straight to
 * createTransport, as no monitor produces them. Every frame must pass the collector's own batch
 * validation (packages/collector/src/validate.ts), as its WebSocket handler runs it. (Through the
 * monitor, a change in the stats processor's numbers or in the monitor's items shows here too.)
 *
 * File format: `@<ms>` lines are what happened at that virtual time since the start; a frame follows
 * its `send` line, split before each item and before its closing `]}` (compact JSON has no newline,
 * so the lines joined without separator are the exact frame).
 *
 * An intentional wire change: update the files with
 *   npx vitest run -u packages/core/test/transport/wire.golden.test.ts
 * and review their diff. A wire change needs a collector check too: deployed collectors must accept
 * and reconstruct it (the validation here, packages/collector's tests, the collector.integration test,
 * docs/protocol.md).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { validateWsBatch } from '../../../collector/src/validate';
import { createMonitor } from '../../src/monitor/monitor';
import { toWireStats } from '../../src/monitor/wire';
import { createTransport, type OutgoingItem } from '../../src/transport/index';
import type { Fabric, Logger, StatsEntry, TransportOptions } from '../../src/types';
import { loadFixture, shifted, side, type RecordedSide } from '../fixtures/load';
import { FakePeerConnection } from '../helpers/fakePeerConnection';
import { ScriptedWebSocket } from './helpers';

const START = 1_800_000_000_000;
const COLLECTOR = 'http://collector.test';
const CONFERENCE = 'conference-1';

const FIXTURES = {
  p2p: { file: 'chromium/p2p-audio-video.json', side: 'caller', remoteUserID: 'bob', remoteEndpointType: 'peer' },
  sfu: { file: 'chromium/sfu-20-inbound.json', side: 'receiver', remoteUserID: 'sfu', remoteEndpointType: 'server' },
} as const;
type FixtureName = keyof typeof FIXTURES;

const recording = (name: FixtureName): RecordedSide => side(loadFixture(FIXTURES[name].file), FIXTURES[name].side);

// ---- the tape: what the collector saw and the SDK said ------------------------------------------

interface Tape {
  /** The frames as sent (unmasked), for the collector's validation. */
  frames: string[];
  logger: Logger;
  /** Times in the text count from now on. */
  restartClock(): void;
  note(line: string): void;
  frame(socket: number, data: string): void;
  /** The collector acknowledges the newest socket's last batch (once). */
  ackLast(): void;
  allAcked(): boolean;
  /** Replaced by `as` in the text (random or time-based values). */
  mask(value: string, as: string): void;
  text(header: string): string;
}

/** The frame with a newline before each item and before the closing `]}` of its items. */
function splitItems(frame: string): string {
  let out = '';
  let depth = 0;
  let inString = false;
  for (let i = 0; i < frame.length; i++) {
    const c = frame.charAt(i);
    if (inString) {
      if (c == '\\') {
        out += c + frame.charAt(++i);
        continue;
      }
      if (c == '"') inString = false;
    } else if (c == '"') inString = true;
    // depth 2: inside the envelope's items array
    else if (c == '{' || c == '[') {
      if (depth == 2 && frame.charAt(i - 1) == '[') out += '\n';
      depth++;
    } else if (c == '}' || c == ']') {
      if (--depth == 1 && c == ']') out += '\n';
    } else if (c == ',' && depth == 2) out += '\n';
    out += c;
  }
  return out;
}

function newTape(): Tape {
  let t0 = Date.now();
  const lines: string[] = [];
  const frames: string[] = [];
  const masks = new Map<string, string>();
  const acked = new Set<number>();
  const note = (line: string): void => void lines.push(`@${Date.now() - t0} ${line}`);
  const detail = (x: unknown): string => (x instanceof Error ? `${x.name}: ${x.message}` : JSON.stringify(x) ?? String(x));
  const log =
    (level: string) =>
    (message: string, ...rest: unknown[]): void =>
      note(`${level} ${message}${rest.map((x) => ` ${detail(x)}`).join('')}`);
  const lastBatch = (): { ws: ScriptedWebSocket; id: number } | undefined => {
    const ws = ScriptedWebSocket.all.at(-1);
    return ws?.sent.length && ws.readyState == 1 ? { ws, id: ws.batch().id } : undefined;
  };
  return {
    frames,
    logger: { debug: () => {}, info: log('info'), warn: log('warn'), error: log('error') },
    restartClock: () => void (t0 = Date.now()),
    note,
    frame(socket, data) {
      frames.push(data);
      // (Runs inside the transport's ws.send: must not throw. A bad frame fails expectCollectorAccepts.)
      let batch: { id?: unknown; sid?: unknown; items?: unknown } = {};
      try {
        batch = JSON.parse(data) as typeof batch;
      } catch {}
      if (typeof batch.sid == 'string' && batch.sid) masks.set(batch.sid, '<sid>');
      const count = Array.isArray(batch.items) ? batch.items.length : '?';
      note(`ws${socket} send batch ${String(batch.id)}: ${count} items, ${Buffer.byteLength(data)} bytes`);
      lines.push(splitItems(data));
    },
    ackLast() {
      const last = lastBatch();
      if (!last || acked.has(last.id)) return;
      acked.add(last.id);
      note(`ws${ScriptedWebSocket.all.length} ack batch ${last.id}`);
      last.ws.ack();
    },
    allAcked: () => {
      const last = lastBatch();
      return !last || acked.has(last.id);
    },
    mask: (value, as) => void masks.set(value, as),
    text(header) {
      let text = `${header}\n${lines.join('\n')}\n`;
      // Longest first: no value is masked inside a longer one.
      for (const [value, as] of [...masks].sort(([a], [b]) => b.length - a.length)) text = text.split(value).join(as);
      return text;
    },
  };
}

/** The collector's side: a ScriptedWebSocket that opens at once and writes what happens to the tape. */
class TapedWebSocket extends ScriptedWebSocket {
  static tape: Tape;
  readonly no = ScriptedWebSocket.all.length;
  constructor(url: string) {
    super(url);
    TapedWebSocket.tape.note(`ws${this.no} connect ${new URL(url).pathname}`);
    queueMicrotask(() => {
      if (this.readyState != 0) return;
      TapedWebSocket.tape.note(`ws${this.no} open`);
      this.open();
    });
  }
  override send(data: string): void {
    TapedWebSocket.tape.frame(this.no, data);
    super.send(data);
  }
  override close(code?: number, reason?: string): void {
    TapedWebSocket.tape.note(`ws${this.no} closed by the SDK (${code ?? ''}${reason ? ` ${reason}` : ''})`);
    super.close();
  }
}

const tokenGenerator = (_forceNew: boolean, callback: (error: unknown, token?: string) => void): void => callback(null, 'third.party.token');
/** POST /v1/token: a session token valid 1 hour (refreshed after 48 min: never within a scenario). */
const tokenFetch = async (): Promise<Response> =>
  new Response(JSON.stringify({ token: 'session.token', expiresAt: Date.now() + 3_600_000 }), { status: 200 });

/** The golden file holds the exact frames: compact JSON has no newline, so the split lines joined are the frame. */
function expectLossless(frames: string[]): void {
  for (const frame of frames) {
    expect(frame).not.toContain('\n');
    expect(splitItems(frame).replaceAll('\n', '')).toBe(frame);
  }
}

/** As the collector's WebSocket handler: type and id, then validateWsBatch. One session: one sid. */
function expectCollectorAccepts(frames: string[]): void {
  expect(frames.length).toBeGreaterThan(0);
  expect(new Set(frames.map((frame) => (JSON.parse(frame) as { sid: unknown }).sid)).size).toBe(1);
  frames.forEach((frame, i) => {
    const message = JSON.parse(frame) as Record<string, unknown>;
    expect(message.type, `frame ${i + 1}`).toBe('batch');
    expect(Number.isSafeInteger(message.id) && (message.id as number) >= 0, `frame ${i + 1} id`).toBe(true);
    const v = validateWsBatch(message);
    expect(v.ok ? 'accepted' : v.message, `frame ${i + 1}`).toBe('accepted');
  });
}

// ---- driving a scenario -----------------------------------------------------------------------

interface Schedule {
  /** Virtual ms between polls (between items, for createTransport scenarios). */
  stepMs: number;
  /** Whether the collector acknowledges the last batch after poll (item) i of count. Once all is sent, it does. */
  acks(i: number, count: number): boolean;
}

const every =
  (k: number) =>
  (i: number): boolean =>
    (i + 1) % k == 0;
/** Silent (no acknowledgement) during the middle third of the call, else acknowledges each batch. */
const outage = (i: number, count: number): boolean => i < count / 3 || i >= (2 * count) / 3;

async function step(tape: Tape, s: Schedule, i: number, count: number): Promise<void> {
  await vi.advanceTimersByTimeAsync(s.stepMs);
  if (s.acks(i, count)) {
    tape.ackLast();
    await vi.advanceTimersByTimeAsync(0);
  }
}

/** Acknowledges everything left, batch by batch, then closes; nothing must be left running. */
async function finish(tape: Tape, close: () => Promise<void>): Promise<void> {
  for (let i = 0; i < 60; i++) {
    const sent = tape.frames.length;
    tape.ackLast();
    await vi.advanceTimersByTimeAsync(1000);
    if (tape.frames.length == sent && tape.allAcked()) break;
  }
  tape.note('close');
  let closed = false;
  void close().then(() => (closed = true));
  for (let i = 0; i < 10 && !closed; i++) {
    tape.ackLast();
    await vi.advanceTimersByTimeAsync(1000);
  }
  expect(closed).toBe(true);
  expect(vi.getTimerCount()).toBe(0);
}

/** A peer connection as the recording's: connected, with its SDPs. */
function recordedPc(rec: RecordedSide): FakePeerConnection {
  const pc = new FakePeerConnection();
  Object.assign(pc, { connectionState: 'connected', iceConnectionState: 'connected', iceGatheringState: 'complete' });
  pc.localDescription = { type: 'offer', sdp: rec.localSDP };
  pc.remoteDescription = { type: 'answer', sdp: rec.remoteSDP };
  return pc;
}

/** The SFU's inbound streams, two per participant (audio, video), attributed as an app does. */
function mapSfuStreams(fabric: Fabric, rec: RecordedSide): void {
  (rec.polls.at(-1) ?? [])
    .filter((e) => e.type == 'inbound-rtp')
    .forEach((e, i) => fabric.mapStream({ ssrc: String(e.ssrc) }, { userID: `user-${Math.floor(i / 2)}`, usageLabel: 'camera' }));
}

/** The recorded polls, `passes` times over (timestamps moved on each pass, as a longer call). */
function pollsOf(rec: RecordedSide, passes: number, intervalMs: number): StatsEntry[][] {
  const span = (rec.polls.at(-1)?.[0]?.timestamp ?? 0) - (rec.polls[0]?.[0]?.timestamp ?? 0) + intervalMs;
  return Array.from({ length: passes }, (_, pass) => rec.polls.map((entries) => (pass ? shifted(entries, pass * span) : entries))).flat();
}

interface MonitorScenario extends Schedule {
  transport: TransportOptions;
  /** Two peer connections replaying the call, the second one poll behind: the same stream keys under two fabrics. */
  twoFabrics?: boolean;
  /** The recorded polls replayed this many times. */
  passes?: number;
  /** fabric.reportError with the recorded SDPs halfway (candidates and addresses: redacted). */
  errorWithSDP?: boolean;
}

/** createMonitor() -> fabric -> transport, the recorded polls answering getStats. */
async function throughMonitor(fixture: FixtureName, s: MonitorScenario, tape: Tape): Promise<void> {
  const rec = recording(fixture);
  const { remoteUserID, remoteEndpointType } = FIXTURES[fixture];
  const monitor = createMonitor({
    appID: 'app',
    localUserID: 'alice',
    collectorURL: COLLECTOR,
    tokenGenerator,
    statsIntervalMs: 3_600_000, // polls by pollNow() only
    transport: s.transport,
    logger: tape.logger,
  });
  monitor.on('transport', (status) => tape.note(`status ${JSON.stringify(status)}`));
  expect(await monitor.ready).toEqual({ status: 'success' });
  const fabrics = Array.from({ length: s.twoFabrics ? 2 : 1 }, (_, i) => {
    const pc = recordedPc(rec);
    const fabric = monitor.addFabric(pc, { remoteUserID, conferenceID: CONFERENCE, remoteEndpointType })!;
    tape.mask(fabric.id, `<fabric${i + 1}>`);
    if (fixture == 'sfu') mapSfuStreams(fabric, rec);
    return { pc, fabric };
  });
  const polls = pollsOf(rec, s.passes ?? 1, loadFixture(FIXTURES[fixture].file).intervalMs);
  for (let i = 0; i < polls.length; i++) {
    for (const [lag, { pc, fabric }] of fabrics.entries()) {
      const entries = polls[i - lag];
      if (!entries) continue;
      pc.nextReport = entries;
      await fabric.pollNow();
    }
    if (s.errorWithSDP && i == polls.length >> 1) {
      const error = Object.assign(new Error('Failed to set local offer sdp: Called in wrong state: stable'), { name: 'InvalidStateError' });
      fabrics[0]!.fabric.reportError('setLocalDescription', error, { localSDP: rec.localSDP, remoteSDP: rec.remoteSDP });
    }
    await step(tape, s, i, polls.length);
  }
  await finish(tape, () => monitor.close());
}

type Json = Record<string, unknown>;
interface StatsInput extends OutgoingItem {
  fabricID: string;
  streams: Json[] | Record<string, Json>;
  connection?: Json;
}

/** The stats items a monitor hands the transport for the recorded polls (a local-only monitor, 1 s apart). */
async function monitorStats(fixture: FixtureName, tape: Tape): Promise<StatsInput[]> {
  const rec = recording(fixture);
  const { remoteUserID, remoteEndpointType } = FIXTURES[fixture];
  const monitor = createMonitor({ appID: 'app', localUserID: 'alice', statsIntervalMs: 3_600_000, logger: tape.logger });
  const items: StatsInput[] = [];
  monitor.on('sample', (stats) => items.push(toWireStats(stats) as StatsInput));
  const pc = recordedPc(rec);
  const fabric = monitor.addFabric(pc, { remoteUserID, conferenceID: CONFERENCE, remoteEndpointType })!;
  tape.mask(fabric.id, '<fabric1>');
  if (fixture == 'sfu') mapSfuStreams(fabric, rec);
  for (const entries of rec.polls) {
    pc.nextReport = entries;
    await fabric.pollNow();
    await vi.advanceTimersByTimeAsync(1000);
  }
  await monitor.close();
  return items;
}

/** Hostile stats (invalid values, unknown fields, addresses, odd keys, other input shapes) and an error with SDPs. */
function hostile(stats: StatsInput[]): OutgoingItem[] {
  const items: OutgoingItem[] = stats.map((item, i) => {
    const c = structuredClone(item);
    const streams = c.streams as Json[];
    const s0 = streams[0]!;
    s0.bitrate = i % 3 == 0 ? -1 : i % 3 == 1 ? NaN : 2e9;
    s0.unknownField = 'x';
    s0.userID = i % 2 ? 'bad\u0001id' : 12345;
    if (i % 4 == 0) s0.quality = 'superb';
    s0.usageLabel = 'é'.repeat(i % 2 ? 10 : 300);
    const s1 = streams[1];
    if (s1) {
      s1.frameRate = Infinity;
      s1.mediaType = i % 5 ? 'video' : 'data';
      delete s1.rtt;
    }
    const connection = (c.connection ??= {});
    Object.assign(connection, { localAddress: '10.0.0.1', remoteAddress: '192.168.1.1', rtt: i % 2 ? undefined : 5, bogus: { a: 1 } });
    c.extra = 'top-level unknown';
    streams.push({ key: 'x:1', ssrc: 1, statsType: 'inbound-rtp', mediaType: 'audio' });
    if (i % 3 == 0) streams.push({ ssrc: 7, statsType: 'outbound-rtp', jitter: 3 }); // key from statsType:ssrc
    if (i % 4 == 0) streams.push(s0); // a key twice in one item
    streams.push({ key: 'ünïcode:1', jitter: 1, quality: 'good' });
    // The other input shapes: streams as an object keyed by stream key; a sample without connection.
    if (i % 3 == 2) c.streams = Object.fromEntries(streams.map(({ key, ...rest }) => [String(key), rest]));
    if (i % 4 == 3) delete c.connection;
    return c;
  });
  const sdp = 'v=0\r\nc=IN IP4 1.2.3.4\r\na=rtcp:9 IN IP4 1.2.3.4\r\na=candidate:1 1 udp 1 1.2.3.4 9 typ host\r\nc=IN IP6 2001:db8::1\r\n';
  const fabricID = stats[0]!.fabricID;
  items.push({ kind: 'error', conferenceID: CONFERENCE, fabricID, fn: 'createOffer', category: 'x', name: 'E', message: 'm', localSDP: sdp, remoteSDP: sdp, t: START + 5 });
  return items;
}

interface TransportScenario extends Schedule {
  transport: TransportOptions;
  collectIP: boolean;
}

/** createTransport directly, with hostile items made from a monitor's stats. */
async function throughTransport(fixture: FixtureName, s: TransportScenario, tape: Tape): Promise<void> {
  const items = hostile(await monitorStats(fixture, tape));
  tape.restartClock();
  const transport = createTransport({
    collectorURL: COLLECTOR,
    appID: 'app',
    userID: 'alice',
    tokenGenerator,
    collectIP: s.collectIP,
    options: s.transport,
    logger: tape.logger,
    WebSocketImpl: TapedWebSocket,
    fetchImpl: tokenFetch,
    internal: { random: () => 0.5 },
  });
  transport.onStatus((status) => tape.note(`status ${JSON.stringify(status)}`));
  expect(await transport.start()).toEqual({ ok: true });
  for (const [i, item] of items.entries()) {
    transport.send(item);
    await step(tape, s, i, items.length);
  }
  await finish(tape, () => transport.close());
}

// ---- the scenarios ----------------------------------------------------------------------------

interface Scenario {
  name: string;
  about: string;
  fixtures: FixtureName[];
  run(fixture: FixtureName, tape: Tape): Promise<void>;
}

const viaMonitor = (name: string, about: string, fixtures: FixtureName[], s: MonitorScenario): Scenario => ({
  name,
  about: `createMonitor, ${about}`,
  fixtures,
  run: (fixture, tape) => throughMonitor(fixture, s, tape),
});
const viaTransport = (name: string, about: string, fixtures: FixtureName[], s: TransportScenario): Scenario => ({
  name,
  about: `createTransport, ${about}`,
  fixtures,
  run: (fixture, tape) => throughTransport(fixture, s, tape),
});

const BOTH: FixtureName[] = ['p2p', 'sfu'];
/** The SFU's 20 streams make big frames: only where they add something to the p2p call's. */
const P2P: FixtureName[] = ['p2p'];
const SCENARIOS: Scenario[] = [
  viaMonitor('ack-each', 'batch interval 0, a poll every 100 ms, each batch acknowledged', BOTH, {
    transport: { batchIntervalMs: 0 },
    stepMs: 100,
    acks: every(1),
  }),
  viaMonitor('batched-1s', 'batches every 1 s, a poll every 300 ms, an ack every 3 polls', P2P, {
    transport: { batchIntervalMs: 1000 },
    stepMs: 300,
    acks: every(3),
  }),
  viaMonitor('outage-buffer-1', 'buffer of 1, no ack in the middle third of the call: stats dropped, and still after it (the `dropped` item in flight fills the buffer)', P2P, {
    transport: { batchIntervalMs: 0, bufferSize: 1 },
    stepMs: 100,
    acks: outage,
  }),
  viaMonitor('outage-buffer-3', 'buffer of 3, no ack in the middle third of the call: dropped stats merged into the next buffered one', BOTH, {
    transport: { batchIntervalMs: 0, bufferSize: 3 },
    stepMs: 100,
    acks: outage,
  }),
  viaMonitor('two-fabrics-buffer-4', 'two fabrics with the same stream keys, buffer of 4, batches every 500 ms, an ack every 5 polls, an error with SDPs', P2P, {
    transport: { batchIntervalMs: 500, bufferSize: 4 },
    stepMs: 100,
    acks: every(5),
    twoFabrics: true,
    errorWithSDP: true,
  }),
  viaMonitor('3-passes-buffer-7', 'the call replayed 3 times, buffer of 7, an ack every 6 polls', P2P, {
    transport: { batchIntervalMs: 0, bufferSize: 7 },
    stepMs: 100,
    acks: every(6),
    passes: 3,
  }),
  viaTransport('hostile', 'hostile stats and an error with SDPs, an ack every 2 items', P2P, {
    transport: { batchIntervalMs: 0 },
    collectIP: false,
    stepMs: 100,
    acks: every(2),
  }),
  viaTransport('hostile-collectIP-buffer-2', 'hostile items with collectIP, buffer of 2, an ack every 4 items', BOTH, {
    transport: { batchIntervalMs: 0, bufferSize: 2 },
    collectIP: true,
    stepMs: 100,
    acks: every(4),
  }),
];

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(START);
  vi.spyOn(Math, 'random').mockReturnValue(0.5);
  ScriptedWebSocket.all = [];
  ScriptedWebSocket.onCreate = () => {};
  vi.stubGlobal('WebSocket', TapedWebSocket);
  vi.stubGlobal('fetch', tokenFetch);
});
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
});

describe('the wire, byte for byte (golden files)', () => {
  for (const s of SCENARIOS)
    for (const fixture of s.fixtures) {
      const name = `${fixture}-${s.name}`;
      it(name, async () => {
        const tape = (TapedWebSocket.tape = newTape());
        await s.run(fixture, tape);
        expectLossless(tape.frames);
        expectCollectorAccepts(tape.frames);
        await expect(tape.text(`# ${name}: ${s.about}`)).toMatchFileSnapshot(`./__golden__/${name}.txt`);
      });
    }
});

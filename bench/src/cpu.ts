// 2. CPU per poll on the recorded fixtures (every SDK in its own page, the same timing loop), and
// 3. wire bytes per fabric-minute (ours vs @jitsi/rtcstats' delta-compressed trace).
import type { Bench } from './browser';
import { dist, log, round, type Dist } from './util';

export interface SdkSpec {
  id: string;
  name: string;
  page: string;
  method: string;
  ours?: boolean;
  arg?: Record<string, unknown>;
}

export const SDKS: SdkSpec[] = [
  {
    id: 'ours',
    name: 'Callmetry processor',
    page: 'cpu-ours.ts',
    ours: true,
    method: 'createStatsProcessor().process(report, context, now) with both SDPs and (SFU) one mapping per inbound stream.',
  },
  {
    id: 'ours-full',
    name: 'Callmetry full poll',
    page: 'cpu-ours-full.ts',
    ours: true,
    method:
      'fabric.pollNow() of a createMonitor() fabric on the fake pc: getStats + processor + sample + wire item + transport (sanitize, delta coding, JSON into the outbox); batches leave on the transport timer, acked by a WebSocket stand-in.',
  },
  {
    id: 'ours-local',
    name: 'Callmetry poll, no collector',
    page: 'cpu-ours-full.ts',
    arg: { local: true },
    ours: true,
    method: 'the same fabric.pollNow() with a local-only monitor (no collectorURL, so no transport): full poll minus this = the transport; this minus the processor = the monitor/fabric around it (poller, lifecycle check, sample shape, events).',
  },
  {
    id: 'callstats',
    name: 'callstats-js 3.73.16',
    page: 'cpu-callstats.ts',
    method:
      "its fabric registered as addNewFabric() does (ConferenceManager + PeerConnectionManager.addPcHandler on the fake pc) and its stats pipeline wired as its onStart() does (StatsAdapter -> Parser -> Monitor -> Assembler -> Transmitter, intervals 1 s), reached through the bundle's internal require; one poll = its GetStatsHandler.csioGetStats(statsHandler), its clock advanced 1 s per poll, up to EventMessageBuilder.make (its stats message); handing the message to a connection (none without its service) is not timed. configParams.collectLegacyStats = false: with the default it also calls the legacy callback getStats(), which Chromium 156 rejects, and then never processes a poll.",
  },
  {
    id: 'watchrtc',
    name: '@testrtc/watchrtc-sdk',
    page: 'cpu-watchrtc.ts',
    method:
      'init() + its wrapped RTCPeerConnection; its collection setInterval (captured) fired by the harness: getStats -> map2obj, clone, RTT patch, stash, deltaCompression, trace (JSON + LZString + WebSocket.send, default sendInterval 1), exposed app stats.',
  },
  {
    id: 'observertc',
    name: '@observertc/client-monitor-js',
    page: 'cpu-observertc.ts',
    method: 'ClientMonitor.addSource(pc); one poll = collect() (monitors, detectors, score) + createSample() (sampling = collecting = 1 s); sending the sample is left to the app (not timed).',
  },
  {
    id: 'peermetrics',
    name: '@peermetrics/webrtc-stats',
    page: 'cpu-peermetrics.ts',
    method: "WebRTCStats.addConnection({pc}); one poll = its interval body: getStats() (map2obj + parseStats against the previous poll) then emitEvent() per result (timeline + 'stats' event).",
  },
  {
    id: 'rtcstats',
    name: '@jitsi/rtcstats 9.7.1',
    page: 'cpu-rtcstats.ts',
    method: "rtcstats(trace-ws) wrapping RTCPeerConnection; its poll setInterval (captured) fired by the harness: getStats -> map2obj, JSON clone, deltaCompression, obfuscator, trace JSON x2 + WebSocket.send.",
  },
];

export interface CpuRow {
  id: string;
  name: string;
  fixture: string;
  perPollUs: Dist;
  passes: number;
  extra: Record<string, unknown>;
}

export interface CpuResult {
  rows: CpuRow[];
  methods: Record<string, string>;
}

interface TimingReply {
  perPollUs: number[];
  passes: number;
  timedPollsPerPass: number;
  resolutionUs: number;
  [k: string]: unknown;
}

export async function measureCpu(bench: Bench, fixtures: string[]): Promise<CpuResult> {
  const rows: CpuRow[] = [];
  for (const fixture of fixtures) {
    const pick = process.env.CALLMETRY_BENCH_SDKS?.split(',');
    for (const sdk of SDKS.filter((s) => !pick || pick.includes(s.id))) {
      const page = await bench.open(sdk.page, { label: `${sdk.id}-${fixture}` });
      try {
        const r = await page.call<TimingReply>('run', { fixture, ...sdk.arg });
        const { perPollUs, passes, timedPollsPerPass: _t, resolutionUs: _r, ...extra } = r;
        const d = dist(perPollUs);
        rows.push({ id: sdk.id, name: sdk.name, fixture, perPollUs: d, passes, extra });
        log(`cpu ${fixture} ${sdk.id}: median ${round(d.median, 1)} us, p90 ${round(d.p90, 1)} us per poll (${passes} passes) ${JSON.stringify(extra)}`);
      } catch (e) {
        log(`cpu ${fixture} ${sdk.id} FAILED: ${(e as Error).message.split('\n')[0]}`);
        rows.push({ id: sdk.id, name: sdk.name, fixture, perPollUs: { median: NaN, p90: NaN, n: 0 }, passes: 0, extra: { error: (e as Error).message.split('\n')[0] } });
      } finally {
        await page.close();
      }
    }
  }
  return { rows, methods: Object.fromEntries(SDKS.map((s) => [s.id, s.method])) };
}

// ---- wire bytes --------------------------------------------------------------------------------

export interface WireSide {
  polls: number;
  bytesPerPoll: number[];
  firstPoll: number;
  /** Mean of the last 10 polls (steady state), bytes. */
  steady: number;
  /** first 15 polls as recorded (or all of them) + the rest of the minute at the steady mean. */
  perMinute: number;
}

export interface WireRow {
  fixture: string;
  ours: WireSide;
  rtcstats: WireSide;
  /** Our stats items (JSON) of the recorded session, reused by the ingest benchmark. */
  ourItems: string[];
}

const utf8 = (s: string): number => Buffer.byteLength(s, 'utf8');

function side(bytes: number[]): WireSide {
  const steadyPart = bytes.slice(-10);
  const steady = steadyPart.reduce((a, b) => a + b, 0) / steadyPart.length;
  const recorded = bytes.slice(0, 60);
  const perMinute = recorded.reduce((a, b) => a + b, 0) + Math.max(0, 60 - recorded.length) * steady;
  return { polls: bytes.length, bytesPerPoll: bytes, firstPoll: bytes[0] ?? 0, steady: round(steady, 1), perMinute: Math.round(perMinute) };
}

export async function measureWire(bench: Bench, fixtures: string[]): Promise<WireRow[]> {
  const rows: WireRow[] = [];
  for (const fixture of fixtures) {
    const oursPage = await bench.open('cpu-ours-full.ts', { label: `wire-ours-${fixture}` });
    const rtcPage = await bench.open('cpu-rtcstats.ts', { label: `wire-rtcstats-${fixture}` });
    try {
      const ours = await oursPage.call<{ perPoll: Array<{ frame: string; statsItem: string }> }>('wire', { fixture });
      const rtc = await rtcPage.call<{ perPoll: Array<{ frame: string }> }>('wire', { fixture });
      const row: WireRow = {
        fixture,
        ours: side(ours.perPoll.map((p) => utf8(p.frame))),
        rtcstats: side(rtc.perPoll.map((p) => utf8(p.frame))),
        ourItems: ours.perPoll.map((p) => p.statsItem),
      };
      rows.push(row);
      log(`wire ${fixture}: ours ${row.ours.perMinute} B/min (steady ${row.ours.steady} B/poll), rtcstats ${row.rtcstats.perMinute} B/min (steady ${row.rtcstats.steady} B/poll)`);
    } finally {
      await oursPage.close();
      await rtcPage.close();
    }
  }
  return rows;
}

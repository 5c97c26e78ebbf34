// Shared by the test pages: a local-only core monitor whose every report is recorded in plain data
// (fabric events, errors, samples per fabric, custom events).
import { createMonitor, type Fabric, type FabricStats, type Monitor } from '@callmetry/core';

export interface EventRow {
  fabricID: string;
  conferenceID: string;
  event: string;
  data?: Record<string, unknown>;
}
export interface ErrorRow {
  fabricID?: string;
  conferenceID: string;
  webRTCFunction: string;
  category: string;
  name?: string;
  message: string;
  localSDP?: string;
  remoteSDP?: string;
}
export interface CustomRow {
  conferenceID: string;
  name: string;
  data?: Record<string, unknown>;
}
export interface StreamRow {
  ssrc: string;
  statsType: string;
  mediaType: string;
  userID: string;
  remoteUserID: string;
  packetRate?: number;
  bitrate?: number;
}
export interface FabricRow {
  id: string;
  conferenceID: string;
  remoteUserID: string;
  state: string;
  /** Streams of the last sample while it ran (the fabric's latestStats()). */
  streams: StreamRow[];
  samples: number;
}
export interface CallRow {
  callId: string;
  direction: 'outgoing' | 'incoming';
  jssip: Array<{ type: string; originator?: string; cause?: string; status?: number }>;
}
export interface Snapshot {
  events: EventRow[];
  errors: ErrorRow[];
  custom: CustomRow[];
  fabrics: FabricRow[];
  calls: CallRow[];
}

export interface Recorder {
  monitor: Monitor;
  snapshot(calls: CallRow[]): Snapshot;
}

function streamRows(s: FabricStats | undefined): StreamRow[] {
  return (s?.mediaStreamTracks ?? []).map((t) => ({
    ssrc: t.ssrc,
    statsType: t.statsType,
    mediaType: t.mediaType,
    userID: t.userID,
    remoteUserID: t.remoteUserID,
    ...(t.packetRate !== undefined ? { packetRate: t.packetRate } : {}),
    ...(t.bitrate !== undefined ? { bitrate: t.bitrate } : {}),
  }));
}

export function recordedMonitor(localUserID: string): Recorder {
  const events: EventRow[] = [];
  const errors: ErrorRow[] = [];
  const custom: CustomRow[] = [];
  const fabrics = new Map<string, { fabric: Fabric; samples: number }>();
  const m = createMonitor({ appID: 'jssip-test', localUserID, statsIntervalMs: 1000 });
  const remember = (fabricID: string): void => {
    if (fabrics.has(fabricID)) return;
    const f = m.fabrics().find((x) => x.id === fabricID);
    if (f) fabrics.set(fabricID, { fabric: f, samples: 0 });
  };
  m.on('fabricEvent', (r) => {
    remember(r.fabricID);
    events.push({ fabricID: r.fabricID, conferenceID: r.conferenceID, event: r.event, ...(r.data ? { data: r.data } : {}) });
  });
  m.on('error', (r) => {
    const { timestamp: _t, ...rest } = r;
    errors.push(rest);
  });
  m.on('sample', (s) => {
    remember(s.fabricID);
    const f = fabrics.get(s.fabricID);
    if (f) f.samples++;
  });
  m.on('customEvent', ({ conferenceID, name, data }) => custom.push({ conferenceID, name, ...(data ? { data } : {}) }));
  return {
    monitor: m,
    snapshot: (calls) => ({
      events: [...events],
      errors: [...errors],
      custom: [...custom],
      fabrics: [...fabrics.values()].map(({ fabric, samples }) => ({
        id: fabric.id,
        conferenceID: fabric.conferenceID,
        remoteUserID: fabric.remoteUserID,
        state: fabric.state,
        streams: streamRows(fabric.latestStats()),
        samples,
      })),
      calls: calls.map((c) => ({ ...c, jssip: [...c.jssip] })),
    }),
  };
}

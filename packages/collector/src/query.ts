// Builds the query API's conference view (docs/protocol.md "Query API") from stored data.
import { QUALITY_ORDER, STREAM_NUMBER_FIELDS } from './protocol';
import { CONNECTION_KEY } from './storage/streamKeys';
import type {
  ConferenceData,
  ConferenceDetail,
  DetailRow,
  FabricEventView,
  MetricSummary,
  ParticipantRecord,
  Quality,
  SampleRecord,
  SeriesPoint,
  StatsFields,
  StreamSummary,
  StreamView,
  TimeWindow,
} from './types';

function detailRow({ sid, userID, item }: { sid: string; userID: string; item: { t: number; fabricID?: string } }): DetailRow {
  return { t: item.t, sid, userID, fabricID: item.fabricID ?? null };
}

export const MAX_SERIES_POINTS = 1000;

const numOrNull = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const strOrNull = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const qualityOrNull = (v: unknown): Quality | null =>
  typeof v === 'string' && (QUALITY_ORDER as readonly string[]).includes(v) ? (v as Quality) : null;

/**
 * `v` to 3 decimals. Beyond 1e12 there are no decimals worth keeping, and `v * 1000` could
 * overflow to Infinity (served as null).
 */
export const round = (v: number): number => (Math.abs(v) < 1e12 ? Math.round(v * 1000) / 1000 : v);

/**
 * The mean of finite numbers, never Infinity: a plain sum can overflow with huge values (data
 * stored before validation bounded them), then the running mean, which stays within the values'
 * range, is used. null for none.
 */
export function mean(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  let sum = 0;
  for (const x of xs) sum += x;
  if (Number.isFinite(sum)) return sum / xs.length;
  let m = 0;
  xs.forEach((x, i) => {
    m += (x - m) / (i + 1);
  });
  return Number.isFinite(m) ? m : null;
}

/** mean() rounded to 3 decimals; null for none. */
export function roundedMean(xs: readonly number[]): number | null {
  const m = mean(xs);
  return m === null ? null : round(m);
}

function metric(values: (number | null)[], worse: 'min' | 'max'): MetricSummary {
  const xs = values.filter((v): v is number => v !== null);
  if (xs.length === 0) return { avg: null, worst: null };
  let w = xs[0]!;
  for (const x of xs) if (worse === 'min' ? x < w : x > w) w = x;
  return { avg: roundedMean(xs), worst: round(w) };
}

export function worseQuality(a: Quality | null, b: Quality | null): Quality | null {
  if (a === null) return b;
  if (b === null) return a;
  return QUALITY_ORDER.indexOf(a) >= QUALITY_ORDER.indexOf(b) ? a : b;
}

function prevailingQuality(qs: (Quality | null)[]): Quality | null {
  const counts = new Map<Quality, number>();
  for (const q of qs) if (q) counts.set(q, (counts.get(q) ?? 0) + 1);
  let best: Quality | null = null;
  let bestCount = 0;
  for (const q of QUALITY_ORDER) {
    const c = counts.get(q) ?? 0;
    if (c > 0 && c >= bestCount) {
      best = q;
      bestCount = c;
    }
  }
  return best;
}

function point(t: number, f: StatsFields, connection: StatsFields | undefined): SeriesPoint {
  const loss = numOrNull(f.fractionLoss) ?? (numOrNull(f.packetLossPercentage) === null ? null : (f.packetLossPercentage as number) / 100);
  return {
    t,
    bitrate: numOrNull(f.bitrate),
    fractionLoss: loss,
    // Inbound streams often have no RTT of their own: use the connection's of the same stats item.
    rtt: numOrNull(f.rtt) ?? numOrNull(connection?.rtt),
    jitter: numOrNull(f.jitter),
    packetRate: numOrNull(f.packetRate),
    audioLevel: numOrNull(f.audioLevel),
    frameRate: numOrNull(f.frameRate),
    frameWidth: numOrNull(f.frameWidth),
    frameHeight: numOrNull(f.frameHeight),
    mos: numOrNull(f.mos),
    quality: qualityOrNull(f.quality),
  };
}

/** A point's numbers: every stream number field but packetLossPercentage (point() folds it into fractionLoss). */
const NUMERIC_POINT_KEYS = STREAM_NUMBER_FIELDS.filter(
  (k): k is Exclude<(typeof STREAM_NUMBER_FIELDS)[number], 'packetLossPercentage'> => k !== 'packetLossPercentage',
);

/** Averages consecutive points into at most `max` buckets (quality: the worst of the bucket). */
export function downsample(points: SeriesPoint[], max: number): SeriesPoint[] {
  if (points.length <= max) return points;
  const out: SeriesPoint[] = [];
  const size = points.length / max;
  for (let b = 0; b < max; b++) {
    const bucket = points.slice(Math.floor(b * size), Math.floor((b + 1) * size));
    if (bucket.length === 0) continue;
    const p = { ...bucket[bucket.length - 1]! };
    for (const k of NUMERIC_POINT_KEYS) {
      p[k] = roundedMean(bucket.map((x) => x[k]).filter((v): v is number => v !== null));
    }
    p.quality = bucket.reduce<Quality | null>((q, x) => worseQuality(q, x.quality), null);
    out.push(p);
  }
  return out;
}

export function buildStreams(samples: readonly SampleRecord[], maxPoints = MAX_SERIES_POINTS): StreamView[] {
  const connections = new Map<string, StatsFields>();
  for (const s of samples) if (s.key === CONNECTION_KEY) connections.set(`${s.sid}\u0000${s.fabricID}\u0000${s.n}`, s.fields);

  const groups = new Map<string, SampleRecord[]>();
  for (const s of samples) {
    if (s.key === CONNECTION_KEY) continue;
    const id = `${s.sid}\u0000${s.fabricID}\u0000${s.key}`;
    const g = groups.get(id);
    if (g) g.push(s);
    else groups.set(id, [s]);
  }

  const streams: StreamView[] = [];
  for (const g of groups.values()) {
    g.sort((a, b) => a.n - b.n);
    const first = g[0]!;
    const last = g[g.length - 1]!.fields;
    const points = g.map((s) => point(s.t, s.fields, connections.get(`${s.sid}\u0000${s.fabricID}\u0000${s.n}`)));
    const qualities = points.map((p) => p.quality);
    streams.push({
      sid: first.sid,
      fabricID: first.fabricID,
      key: first.key,
      ssrc: strOrNull(last.ssrc),
      statsType: strOrNull(last.statsType),
      mediaType: strOrNull(last.mediaType),
      userID: strOrNull(last.userID),
      usageLabel: strOrNull(last.usageLabel),
      summary: {
        samples: points.length,
        bitrate: metric(points.map((p) => p.bitrate), 'min'),
        fractionLoss: metric(points.map((p) => p.fractionLoss), 'max'),
        rtt: metric(points.map((p) => p.rtt), 'max'),
        jitter: metric(points.map((p) => p.jitter), 'max'),
        mos: metric(points.map((p) => p.mos), 'min'),
        quality: prevailingQuality(qualities),
        worstQuality: qualities.reduce<Quality | null>((q, x) => worseQuality(q, x), null),
      },
      series: downsample(points, maxPoints),
    });
  }
  streams.sort((a, b) => (a.series[0]?.t ?? 0) - (b.series[0]?.t ?? 0) || a.key.localeCompare(b.key));
  return streams;
}

/**
 * Participants: users who sent data, extended by the fabrics that name them as a remote peer
 * (a peer seen from the other side is present as long as that fabric is).
 */
export function participantsOf(data: ConferenceData): ParticipantRecord[] {
  const byUser = new Map<string, ParticipantRecord>();
  for (const p of data.participants) byUser.set(p.userID, { ...p });
  for (const f of data.fabrics) {
    if (f.remoteEndpointType !== 'peer' || !f.remoteUserID) continue;
    const p = byUser.get(f.remoteUserID);
    if (p) {
      p.firstSeen = Math.min(p.firstSeen, f.firstSeen);
      p.lastSeen = Math.max(p.lastSeen, f.lastSeen);
    } else byUser.set(f.remoteUserID, { userID: f.remoteUserID, firstSeen: f.firstSeen, lastSeen: f.lastSeen });
  }
  return [...byUser.values()].sort((a, b) => a.firstSeen - b.firstSeen || a.userID.localeCompare(b.userID));
}

export function buildConferenceDetail(data: ConferenceData, maxPoints = MAX_SERIES_POINTS, window: TimeWindow = {}): ConferenceDetail {
  const fabricEvents = new Map<string, FabricEventView[]>();
  const conferenceEvents: ConferenceDetail['events'] = [];
  for (const e of data.events) {
    const view = { t: e.item.t, event: e.item.event, data: e.item.data ?? null };
    if (e.item.fabricID === undefined) {
      conferenceEvents.push({ ...view, sid: e.sid, userID: e.userID });
      continue;
    }
    const id = `${e.sid}\u0000${e.item.fabricID}`;
    const list = fabricEvents.get(id);
    if (list) list.push(view);
    else fabricEvents.set(id, [view]);
  }
  conferenceEvents.sort((a, b) => a.t - b.t);

  return {
    conferenceID: data.conference.conferenceID,
    firstSeen: data.conference.firstSeen,
    lastSeen: data.conference.lastSeen,
    participants: participantsOf(data),
    fabrics: data.fabrics.map((f) => ({ ...f, events: fabricEvents.get(`${f.sid}\u0000${f.fabricID}`) ?? [] })),
    events: conferenceEvents,
    errors: data.errors.map((row) => {
      const { item } = row;
      const e: ConferenceDetail['errors'][number] = {
        ...detailRow(row),
        fn: item.fn,
        category: item.category,
        name: item.name ?? null,
        message: item.message,
      };
      if (item.localSDP !== undefined) e.localSDP = item.localSDP;
      if (item.remoteSDP !== undefined) e.remoteSDP = item.remoteSDP;
      return e;
    }),
    feedback: data.feedback.map(({ sid, item }) => ({
      t: item.t,
      sid,
      userID: item.userID,
      rating: item.rating,
      comment: item.comment ?? null,
    })),
    customEvents: data.customEvents.map((row) => ({ ...detailRow(row), name: row.item.name, data: row.item.data ?? null })),
    customStats: data.customStats.map((row) => ({ ...detailRow(row), data: row.item.data })),
    dropped: data.dropped.map(({ sid, item }) => ({ t: item.t, sid, count: item.count, reason: item.reason })),
    window: { from: window.from ?? null, to: window.to ?? null },
    streams: buildStreams(data.samples, maxPoints),
    summary: data.conference.summaryStale ? null : data.conference.summary,
  };
}

// One unit test per normalization step: each step is one browser difference.
import { describe, expect, it } from 'vitest';
import type { StatsEntry } from '../../src/types';
import { candidateFields } from '../../src/stats/normalize/steps/candidateFields';
import { associatedSsrcsFromEntry, dropRtxAndFecStreams } from '../../src/stats/normalize/steps/dropRtxAndFecStreams';
import { fractionLostUnits } from '../../src/stats/normalize/steps/fractionLostUnits';
import { indexById, statsTypeOf } from '../../src/stats/normalize/steps/indexById';
import { kindFromCodecMimeType } from '../../src/stats/normalize/steps/kindFromCodecMimeType';
import { kindFromMediaType } from '../../src/stats/normalize/steps/kindFromMediaType';
import { mediaSourceFields, mediaSourceOf } from '../../src/stats/normalize/steps/mediaSourceFields';
import { remoteFromRemoteId, remoteFromSsrc, remoteInboundFromLocalId } from '../../src/stats/normalize/steps/remoteInboundFromLocalId';
import { remoteTypeFromIsRemote } from '../../src/stats/normalize/steps/remoteTypeFromIsRemote';
import { jitterUnits, roundTripTimeUnits } from '../../src/stats/normalize/steps/roundTripTimeUnits';
import { selectedCandidatePairFromFlags } from '../../src/stats/normalize/steps/selectedCandidatePairFromFlags';
import { selectedCandidatePairFromTransport } from '../../src/stats/normalize/steps/selectedCandidatePairFromTransport';
import { legacyTrackOf, trackFieldsFromLegacyTrackStats } from '../../src/stats/normalize/steps/trackFieldsFromLegacyTrackStats';
import { typeFromLegacyName } from '../../src/stats/normalize/steps/typeFromLegacyName';
import type { NormalizedRtpStream } from '../../src/stats/normalize/types';
import { entryOf, loadFixture, reportOf, side } from '../fixtures/load';

const e = (id: string, type: string, fields: Record<string, unknown> = {}): StatsEntry => ({ id, type, timestamp: 1000, ...fields });
const byId = (...entries: StatsEntry[]) => new Map(entries.map((x) => [x.id, x]));

describe('typeFromLegacyName (Firefox < 55, legacy Edge)', () => {
  it('maps pre-standard names and keeps the rest', () => {
    expect(typeFromLegacyName('inboundrtp')).toBe('inbound-rtp');
    expect(typeFromLegacyName('outboundrtp')).toBe('outbound-rtp');
    expect(typeFromLegacyName('candidatepair')).toBe('candidate-pair');
    expect(typeFromLegacyName('localcandidate')).toBe('local-candidate');
    expect(typeFromLegacyName('remotecandidate')).toBe('remote-candidate');
    expect(typeFromLegacyName('inbound-rtp')).toBe('inbound-rtp');
    expect(typeFromLegacyName('codec')).toBe('codec');
  });
});

describe('remoteTypeFromIsRemote (Firefox isRemote era)', () => {
  it('turns isRemote RTP entries into remote-* types', () => {
    expect(remoteTypeFromIsRemote('inbound-rtp', true)).toBe('remote-inbound-rtp');
    expect(remoteTypeFromIsRemote('outbound-rtp', true)).toBe('remote-outbound-rtp');
    expect(remoteTypeFromIsRemote('inbound-rtp', false)).toBe('inbound-rtp');
    expect(remoteTypeFromIsRemote('inbound-rtp', undefined)).toBe('inbound-rtp');
    expect(remoteTypeFromIsRemote('codec', true)).toBe('codec');
    expect(statsTypeOf(e('x', 'inboundrtp', { isRemote: true }))).toBe('remote-inbound-rtp');
  });
});

describe('indexById', () => {
  it('indexes a real Chromium report by id and by type, holding references only', () => {
    const poll = side(loadFixture('chromium/p2p-audio-video.json'), 'caller').polls[14] ?? [];
    const report = reportOf(poll);
    const index = indexById(report);
    expect(index.byId.size).toBe(poll.length);
    expect(index.inbound).toHaveLength(2);
    expect(index.outbound).toHaveLength(2);
    expect(index.remoteInbound).toHaveLength(2);
    expect(index.remoteOutbound).toHaveLength(2);
    expect(index.transports).toHaveLength(1);
    expect(index.candidatePairs).toHaveLength(1);
    expect(index.inbound[0]).toBe(report.get(index.inbound[0]?.id ?? ''));
    expect(index.latestTimestamp).toBe(Math.max(...poll.map((x) => x.timestamp)));
    expect(index.legacyTracks).toBe(false);
  });

  it('flags legacy track stats (Safari) and takes ids from the report keys, else from entries', () => {
    const safari = side(loadFixture('safari/safari-1to1.json'), 'caller').polls[2] ?? [];
    expect(indexById(reportOf(safari)).legacyTracks).toBe(true);
    // A forEach with non-string keys (an array's indexes): the entries' own ids.
    const chromium = side(loadFixture('chromium/p2p-audio-video.json'), 'caller').polls[14] ?? [];
    const index = indexById({ forEach: (cb) => chromium.forEach((e, i) => (cb as (v: unknown, k: unknown) => void)(e, i)) });
    expect([...index.byId.keys()]).toEqual(chromium.map((e) => e.id));
  });

  it('files legacy Firefox entries under their spec types', () => {
    const poll = side(loadFixture('firefox/firefox-legacy-isremote.json'), 'caller').polls[1] ?? [];
    const index = indexById(reportOf(poll));
    expect(index.inbound.map((x) => x.id)).toEqual(['inbound_rtp_audio_0', 'inbound_rtp_video_1']);
    expect(index.outbound).toHaveLength(2);
    expect(index.remoteInbound.map((x) => x.id)).toEqual(['outbound_rtcp_audio_0', 'outbound_rtcp_video_1']);
    expect(index.remoteOutbound).toHaveLength(2);
    expect(index.candidatePairs).toHaveLength(1);
  });

  it('skips non-objects and uses the key when an entry has no id', () => {
    const report = new Map<string, StatsEntry>([
      ['k1', { type: 'inbound-rtp', timestamp: 5 } as unknown as StatsEntry],
      ['k2', null as unknown as StatsEntry],
    ]);
    const index = indexById(report);
    expect([...index.byId.keys()]).toEqual(['k1']);
    expect(index.latestTimestamp).toBe(5);
  });
});

describe('kindFromMediaType (kind vs Firefox/old Safari mediaType)', () => {
  it('prefers kind, falls back to mediaType, rejects other values', () => {
    expect(kindFromMediaType(e('a', 'inbound-rtp', { kind: 'video', mediaType: 'video' }))).toBe('video');
    expect(kindFromMediaType(e('a', 'inbound-rtp', { mediaType: 'audio' }))).toBe('audio');
    expect(kindFromMediaType(e('a', 'inbound-rtp', { kind: 'data' }))).toBeUndefined();
    expect(kindFromMediaType(e('a', 'inbound-rtp'))).toBeUndefined();
    expect(kindFromMediaType(undefined)).toBeUndefined();
  });
});

describe('kindFromCodecMimeType', () => {
  it('reads the major type of the codec mimeType', () => {
    expect(kindFromCodecMimeType(e('c', 'codec', { mimeType: 'audio/opus' }))).toBe('audio');
    expect(kindFromCodecMimeType(e('c', 'codec', { mimeType: 'Video/VP8' }))).toBe('video');
    expect(kindFromCodecMimeType(e('c', 'codec', { mimeType: 'application/x' }))).toBeUndefined();
    expect(kindFromCodecMimeType(undefined)).toBeUndefined();
  });
});

describe('selectedCandidatePairFromTransport (spec, Chromium, Safari)', () => {
  it('follows transport.selectedCandidatePairId; after an ICE restart the new pair (recorded)', () => {
    const f = loadFixture('chromium/p2p-replace-track-ice-restart.json');
    const polls = side(f, 'caller').polls;
    const before = indexById(reportOf(polls[7] ?? []));
    const after = indexById(reportOf(polls[9] ?? []));
    const p1 = selectedCandidatePairFromTransport(before);
    const p2 = selectedCandidatePairFromTransport(after);
    expect(p1?.type).toBe('candidate-pair');
    expect(p2?.type).toBe('candidate-pair');
    expect(p2?.id).not.toBe(p1?.id);
    expect(after.candidatePairs.filter((p) => p.nominated === true).length).toBeGreaterThan(1);
  });

  it('prefers the transport the RTP streams use; ignores ids that are not pairs', () => {
    const t1 = e('T1', 'transport', { selectedCandidatePairId: 'P1' });
    const t2 = e('T2', 'transport', { selectedCandidatePairId: 'P2' });
    const p1 = e('P1', 'candidate-pair');
    const p2 = e('P2', 'candidate-pair');
    const index = { byId: byId(t1, t2, p1, p2), transports: [t1, t2] };
    expect(selectedCandidatePairFromTransport(index, 'T2')).toBe(p2);
    expect(selectedCandidatePairFromTransport(index)).toBe(p1);
    const bad = e('T3', 'transport', { selectedCandidatePairId: 'T1' });
    expect(selectedCandidatePairFromTransport({ byId: byId(bad, t1), transports: [bad] })).toBeUndefined();
    expect(selectedCandidatePairFromTransport({ byId: new Map(), transports: [] })).toBeUndefined();
  });
});

describe('selectedCandidatePairFromFlags (Firefox: no transport stats)', () => {
  it('takes selected: true first', () => {
    const pairs = [
      e('a', 'candidate-pair', { nominated: true, state: 'succeeded' }),
      e('b', 'candidate-pair', { selected: true, nominated: true, state: 'succeeded' }),
    ];
    expect(selectedCandidatePairFromFlags(pairs)?.id).toBe('b');
  });

  it('else the nominated+succeeded pair that carried packets last (ICE restart)', () => {
    const pairs = [
      e('old', 'candidate-pair', { nominated: true, state: 'succeeded', lastPacketReceivedTimestamp: 100 }),
      e('new', 'candidate-pair', { nominated: true, state: 'succeeded', lastPacketReceivedTimestamp: 900 }),
      e('waiting', 'candidate-pair', { nominated: false, state: 'waiting', lastPacketReceivedTimestamp: 999 }),
    ];
    expect(selectedCandidatePairFromFlags(pairs)?.id).toBe('new');
    expect(selectedCandidatePairFromFlags([e('x', 'candidate-pair', { state: 'failed' })])).toBeUndefined();
  });
});

describe('candidateFields (address/ip/ipAddress, port/portNumber)', () => {
  it('reads spec, old Chromium and old Firefox names', () => {
    expect(candidateFields(e('c', 'local-candidate', { address: '10.0.0.1', port: 1, protocol: 'udp', candidateType: 'host' }))).toEqual({
      type: 'host',
      protocol: 'udp',
      address: '10.0.0.1',
      port: 1,
    });
    expect(candidateFields(e('c', 'local-candidate', { ip: '10.0.0.2', port: 2 })).address).toBe('10.0.0.2');
    expect(candidateFields(e('c', 'localcandidate', { ipAddress: '10.0.0.3', portNumber: 3, transport: 'tcp' }))).toMatchObject({
      address: '10.0.0.3',
      port: 3,
      protocol: 'tcp',
    });
    expect(candidateFields(undefined)).toEqual({});
  });
});

describe('trackFieldsFromLegacyTrackStats (Safari, older Chromium)', () => {
  it('takes frame size/rate, level, trackIdentifier and jitter buffer from the track stats (recorded shape: hand-written Safari)', () => {
    const poll = side(loadFixture('safari/safari-1to1.json'), 'caller').polls[2] ?? [];
    const map = byId(...poll);
    const video = entryOf(poll, (x) => x.type === 'inbound-rtp' && x.kind === 'video');
    const audio = entryOf(poll, (x) => x.type === 'inbound-rtp' && x.kind === 'audio');
    const vt = legacyTrackOf(video, map);
    expect(vt?.type).toBe('track');
    expect(trackFieldsFromLegacyTrackStats(video, vt)).toEqual({
      trackIdentifier: 'E8D6A3E1-0000-4000-8000-000000000002',
      frameWidth: 1280,
      frameHeight: 720,
      framesPerSecond: 30,
    });
    expect(trackFieldsFromLegacyTrackStats(audio, legacyTrackOf(audio, map))).toMatchObject({
      audioLevel: 0.3,
      jitterBufferDelay: 0.05 * 48000 * 2,
      jitterBufferEmittedCount: 96000,
    });
  });

  it('fields on the RTP entry win; legacy Edge mediaTrackId; no track -> nothing', () => {
    const track = e('t', 'track', { frameWidth: 1, frameHeight: 2, trackIdentifier: 'x', framesDecoded: 9 });
    const rtp = e('r', 'inbound-rtp', { mediaTrackId: 't', frameWidth: 640, trackIdentifier: 'own', framesDecoded: 5 });
    expect(legacyTrackOf(rtp, byId(track))).toBe(track);
    expect(trackFieldsFromLegacyTrackStats(rtp, track)).toEqual({ frameHeight: 2 });
    expect(trackFieldsFromLegacyTrackStats(e('r2', 'inbound-rtp'), track)).toMatchObject({ frames: 9 });
    expect(trackFieldsFromLegacyTrackStats(rtp, undefined)).toEqual({});
    expect(legacyTrackOf(e('r', 'inbound-rtp', { trackId: 'codec' }), byId(e('codec', 'codec')))).toBeUndefined();
  });
});

describe('mediaSourceFields (sender capture stats)', () => {
  it('reads audio level and the video source size from media-source (recorded Chromium)', () => {
    const poll = side(loadFixture('chromium/p2p-audio-video.json'), 'caller').polls[5] ?? [];
    const map = byId(...poll);
    const audio = entryOf(poll, (x) => x.type === 'outbound-rtp' && x.kind === 'audio');
    const src = mediaSourceOf(audio, map);
    expect(src?.type).toBe('media-source');
    const f = mediaSourceFields(audio, src);
    expect(f.audioLevel).toBe(src?.audioLevel);
    expect(f.trackIdentifier).toBe(src?.trackIdentifier);
    const video = entryOf(poll, (x) => x.type === 'outbound-rtp' && x.kind === 'video');
    // outbound-rtp has its own frame size: the source's is not used
    expect(mediaSourceFields(video, mediaSourceOf(video, map))).not.toHaveProperty('frameWidth');
  });

  it('fills width/height/fps when the RTP entry lacks them', () => {
    const src = e('s', 'media-source', { width: 320, height: 180, framesPerSecond: 15 });
    expect(mediaSourceFields(e('o', 'outbound-rtp'), src)).toEqual({ frameWidth: 320, frameHeight: 180, framesPerSecond: 15 });
    expect(mediaSourceFields(e('o', 'outbound-rtp'), undefined)).toEqual({});
  });
});

describe('remoteInboundFromLocalId and fallbacks (remote-* linking)', () => {
  it('links by localId (recorded Chromium)', () => {
    const poll = side(loadFixture('chromium/p2p-audio-video.json'), 'caller').polls[10] ?? [];
    const index = indexById(reportOf(poll));
    const links = remoteInboundFromLocalId([...index.remoteInbound, ...index.remoteOutbound]);
    for (const o of [...index.outbound, ...index.inbound]) {
      const r = links.get(o.id);
      expect(r?.ssrc).toBe(o.ssrc);
    }
  });

  it('links by remoteId in the isRemote era (hand-written old Firefox)', () => {
    const poll = side(loadFixture('firefox/firefox-legacy-isremote.json'), 'caller').polls[1] ?? [];
    const map = byId(...poll);
    const out = entryOf(poll, (x) => x.id === 'outbound_rtp_video_1');
    expect(remoteFromRemoteId(out, map, 'remote-inbound-rtp')?.id).toBe('outbound_rtcp_video_1');
    expect(remoteFromRemoteId(out, map, 'remote-outbound-rtp')).toBeUndefined();
    const inb = entryOf(poll, (x) => x.id === 'inbound_rtp_audio_0');
    expect(remoteFromRemoteId(inb, map, 'remote-outbound-rtp')?.id).toBe('inbound_rtcp_audio_0');
  });

  it('no remoteId links nothing by id, even to an entry keyed "" (a hostile report)', () => {
    const out = e('o', 'outbound-rtp', { ssrc: 5 });
    expect(remoteFromRemoteId(out, byId(e('', 'remote-inbound-rtp', { ssrc: 6 })), 'remote-inbound-rtp')).toBeUndefined();
  });

  it('else by SSRC (and kind when both tell)', () => {
    const out = e('o', 'outbound-rtp', { ssrc: 5, kind: 'audio' });
    const remotes = [e('r1', 'remote-inbound-rtp', { ssrc: 5, kind: 'video' }), e('r2', 'remote-inbound-rtp', { ssrc: '5' })];
    expect(remoteFromSsrc(out, remotes)?.id).toBe('r2');
    expect(remoteFromSsrc(e('o', 'outbound-rtp'), remotes)).toBeUndefined();
  });
});

describe('roundTripTimeUnits / jitterUnits (seconds -> ms; old Firefox mozRtt ms)', () => {
  it('converts', () => {
    expect(roundTripTimeUnits(e('r', 'remote-inbound-rtp', { roundTripTime: 0.052 }))).toBeCloseTo(52);
    expect(roundTripTimeUnits(e('p', 'candidate-pair', { currentRoundTripTime: 0.001 }), 'currentRoundTripTime')).toBeCloseTo(1);
    expect(roundTripTimeUnits(e('r', 'inboundrtp', { isRemote: true, mozRtt: 40 }))).toBe(40);
    expect(roundTripTimeUnits(e('r', 'remote-inbound-rtp'))).toBeUndefined();
    expect(roundTripTimeUnits(undefined)).toBeUndefined();
    expect(jitterUnits(e('i', 'inbound-rtp', { jitter: 0.0125 }))).toBeCloseTo(12.5);
    expect(jitterUnits(e('i', 'inbound-rtp', { jitter: 'x' }))).toBeUndefined();
  });

  it('gives no value out of 0..1 hour once converted: negative, or made infinite by x1000 (F15)', () => {
    const pair = (currentRoundTripTime: unknown) => e('p', 'candidate-pair', { currentRoundTripTime });
    expect(roundTripTimeUnits(pair(1e308), 'currentRoundTripTime')).toBeUndefined(); // x1000 = Infinity
    expect(roundTripTimeUnits(pair(Number.MAX_VALUE), 'currentRoundTripTime')).toBeUndefined();
    expect(roundTripTimeUnits(pair(3601), 'currentRoundTripTime')).toBeUndefined();
    expect(roundTripTimeUnits(pair(3600), 'currentRoundTripTime')).toBe(3_600_000);
    expect(roundTripTimeUnits(pair(-0.05), 'currentRoundTripTime')).toBeUndefined();
    expect(roundTripTimeUnits(pair(0), 'currentRoundTripTime')).toBe(0);
    expect(roundTripTimeUnits(pair(Number.NaN), 'currentRoundTripTime')).toBeUndefined();
    expect(roundTripTimeUnits(e('r', 'inboundrtp', { isRemote: true, mozRtt: -40 }))).toBeUndefined();
    expect(roundTripTimeUnits(e('r', 'inboundrtp', { isRemote: true, mozRtt: 1e308 }))).toBeUndefined();
    expect(jitterUnits(e('i', 'inbound-rtp', { jitter: -3 }))).toBeUndefined(); // was -3000 ms
    expect(jitterUnits(e('i', 'inbound-rtp', { jitter: 1e306 }))).toBeUndefined();
    expect(jitterUnits(e('i', 'inbound-rtp', { jitter: Infinity }))).toBeUndefined();
  });
});

describe('fractionLostUnits', () => {
  it('keeps 0..1, scales RTCP fixed point, rejects negatives', () => {
    expect(fractionLostUnits(e('r', 'remote-inbound-rtp', { fractionLost: 0.25 }))).toBe(0.25);
    expect(fractionLostUnits(e('r', 'remote-inbound-rtp', { fractionLost: 64 }))).toBe(0.25);
    expect(fractionLostUnits(e('r', 'remote-inbound-rtp', { fractionLost: -1 }))).toBeUndefined();
    expect(fractionLostUnits(e('r', 'remote-inbound-rtp'))).toBeUndefined();
  });
});

describe('dropRtxAndFecStreams', () => {
  const s = (ssrc: string, extra: Partial<NormalizedRtpStream> = {}): NormalizedRtpStream => ({
    id: `id-${ssrc}`,
    direction: 'inbound',
    ssrc,
    timestamp: 1,
    ...extra,
  });

  it('drops RTX/FEC SSRCs reported as streams and lists them with the primary', () => {
    const groups = new Map([
      ['101', '100'],
      ['102', '100'],
    ]);
    const input = [s('100'), s('101'), s('102'), s('200')];
    const out = dropRtxAndFecStreams(input, (x) => groups.get(x));
    expect(out.map((x) => x.ssrc)).toEqual(['100', '200']);
    expect(out[0]?.associatedSsrcs).toEqual(['101', '102']);
    expect(input[0]?.associatedSsrcs).toBeUndefined(); // input records untouched
    expect(out[1]).toBe(input[3]);
  });

  it('is the identity when nothing is secondary (the Chromium case: rtxSsrc on the primary)', () => {
    const input = [s('100', { associatedSsrcs: ['101'] })];
    expect(dropRtxAndFecStreams(input, () => undefined)).toBe(input);
  });

  it('associatedSsrcsFromEntry reads Chromium rtxSsrc / fecSsrc', () => {
    expect(associatedSsrcsFromEntry(3711321146, undefined)).toEqual(['3711321146']);
    expect(associatedSsrcsFromEntry(1, '2')).toEqual(['1', '2']);
    expect(associatedSsrcsFromEntry(undefined, undefined)).toBeUndefined();
  });
});

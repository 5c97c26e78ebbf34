import { describe, expect, it } from 'vitest';
import type { StreamStats } from '../../src/types';
import { toFabricStats } from '../../src/stats/callbackShape';
import { StreamMappings } from '../../src/stats/mapping';
import { createStatsProcessor } from '../../src/stats/processor';
import { loadFixture, reportOf, side } from '../fixtures/load';

const base = {
  fabricID: 'f1',
  conferenceID: 'conf',
  connectionState: 'connected',
  fabricState: 'established' as const,
  conferenceURL: 'http://127.0.0.1:8080/apps/app/conferences/conf',
  timestamp: 1234,
};

describe('toFabricStats (callstats.js stats callback shape)', () => {
  it('keys streams by SSRC and lists them in mediaStreamTracks (processed recorded Chromium poll)', () => {
    const s = side(loadFixture('chromium/p2p-audio-video.json'), 'caller');
    const p = createStatsProcessor();
    const ctx = { localUserID: 'a', remoteUserID: 'b', localSDP: s.localSDP, remoteSDP: s.remoteSDP, mappings: new StreamMappings(), collectIP: false };
    let processed = p.process(reportOf(s.polls[0] ?? []), ctx, 0);
    processed = p.process(reportOf(s.polls[1] ?? []), ctx, 0);
    const fs = toFabricStats({ ...base, streams: processed.streams, connection: processed.connection });
    expect(Object.keys(fs)).toEqual([
      'fabricID',
      'conferenceID',
      'connectionState',
      'fabricState',
      'conferenceURL',
      'timestamp',
      'streams',
      'mediaStreamTracks',
      'connection',
    ]);
    expect(Object.keys(fs.streams).sort()).toEqual(processed.streams.map((x) => x.ssrc).sort());
    for (const st of processed.streams) expect(fs.streams[st.ssrc]).toBe(st);
    expect(fs.mediaStreamTracks).toEqual(processed.streams);
    expect(fs.mediaStreamTracks).not.toBe(processed.streams);
    expect(fs).toMatchObject(base);
    expect(fs.connection).toBe(processed.connection);
    expect(JSON.parse(JSON.stringify(fs))).toEqual(fs); // plain JSON data
  });

  it('an inbound and an outbound stream with the same SSRC are both kept', () => {
    const mk = (statsType: StreamStats['statsType']): StreamStats => ({
      ssrc: '42',
      statsType,
      mediaType: 'audio',
      userID: 'u',
      remoteUserID: 'r',
    });
    const out = mk('outbound-rtp');
    const inn = mk('inbound-rtp');
    const fs = toFabricStats({ ...base, streams: [out, inn], connection: {} });
    expect(fs.streams['42']).toBe(out);
    expect(fs.streams['inbound-rtp:42']).toBe(inn);
    expect(fs.mediaStreamTracks).toHaveLength(2);
  });

  it('no streams: empty record and list', () => {
    const fs = toFabricStats({ ...base, streams: [], connection: {} });
    expect(fs.streams).toEqual({});
    expect(fs.mediaStreamTracks).toEqual([]);
  });
});

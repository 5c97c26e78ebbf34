import { describe, expect, it } from 'vitest';
import { midOfOnlySection, parseSdp, parseSdpUncached, sdpCacheSize } from '../../src/stats/sdp';
import { loadFixture, loadText, side } from '../fixtures/load';

describe('parseSdp: Unified Plan (recorded Chromium offer)', () => {
  const sdp = loadText('chromium/offer-plain.sdp');
  const info = parseSdp(sdp);

  it('maps each SSRC to its m-section, mid, cname and msid', () => {
    expect(info.media.map((m) => [m.mediaType, m.mid])).toEqual([
      ['audio', '0'],
      ['video', '1'],
    ]);
    const audio = info.media[0];
    const audioSsrc = audio?.ssrcs[0];
    expect(audioSsrc).toMatch(/^\d+$/);
    const a = info.ssrcs.get(audioSsrc ?? '');
    expect(a).toMatchObject({ mediaType: 'audio', mid: '0', role: 'primary' });
    expect(a?.cname).toBeTruthy();
    expect(a?.streamId).toBe(audio?.streamId);
    expect(a?.trackId).toBe(audio?.trackId);
    expect(a?.msid).toBe(`${a?.streamId} ${a?.trackId}`);
  });

  it('groups the RTX SSRC (a=ssrc-group:FID) with the primary video SSRC', () => {
    const video = info.media[1];
    const fid = video?.ssrcGroups.find((g) => g.semantics === 'FID');
    const [primary, rtx] = fid?.ssrcs ?? [];
    expect(primary && rtx).toBeTruthy();
    expect(info.ssrcs.get(primary ?? '')).toMatchObject({ role: 'primary', associatedSsrcs: [rtx] });
    expect(info.ssrcs.get(rtx ?? '')).toMatchObject({ role: 'rtx', primarySsrc: primary, mid: '1' });
    expect(info.secondaryToPrimary.get(rtx ?? '')).toBe(primary);
    expect(video?.direction).toBe('sendrecv');
  });
});

describe('parseSdp: FlexFEC (recorded Chromium offer with FlexFEC field trial)', () => {
  it('groups FID and FEC-FR SSRCs with their primary', () => {
    const info = parseSdp(loadText('chromium/offer-flexfec.sdp'));
    const video = info.media.find((m) => m.mediaType === 'video');
    const fec = video?.ssrcGroups.find((g) => g.semantics === 'FEC-FR');
    const fid = video?.ssrcGroups.find((g) => g.semantics === 'FID');
    expect(fec && fid).toBeTruthy();
    const primary = fid?.ssrcs[0] ?? '';
    expect(fec?.ssrcs[0]).toBe(primary);
    const p = info.ssrcs.get(primary);
    expect(p?.associatedSsrcs).toEqual([fid?.ssrcs[1], fec?.ssrcs[1]]);
    expect(info.ssrcs.get(fec?.ssrcs[1] ?? '')).toMatchObject({ role: 'fec', primarySsrc: primary });
    expect(info.ssrcs.get(fid?.ssrcs[1] ?? '')).toMatchObject({ role: 'rtx', primarySsrc: primary });
  });
});

describe('parseSdp: simulcast', () => {
  it('rid simulcast (recorded Chromium offer): a=rid and a=simulcast, no SSRCs', () => {
    const info = parseSdp(loadText('chromium/offer-simulcast-rid.sdp'));
    const video = info.media.find((m) => m.mediaType === 'video');
    expect(video?.rids).toEqual([
      { id: 'q', direction: 'send' },
      { id: 'h', direction: 'send' },
      { id: 'f', direction: 'send' },
    ]);
    expect(video?.simulcast).toEqual({ send: ['q', 'h', 'f'] });
    expect(video?.ssrcs).toEqual([]);
  });

  it('SSRC simulcast: a=ssrc-group:SIM layers, each with its own FID group', () => {
    const sdp = [
      'v=0',
      'o=- 1 1 IN IP4 127.0.0.1',
      's=-',
      't=0 0',
      'm=video 9 UDP/TLS/RTP/SAVPF 96 97',
      'a=mid:v0',
      'a=sendonly',
      'a=msid:stream track',
      'a=ssrc-group:SIM 100 200 300',
      'a=ssrc-group:FID 100 101',
      'a=ssrc-group:FID 200 201',
      'a=ssrc-group:FID 300 301',
      ...[100, 101, 200, 201, 300, 301].map((s) => `a=ssrc:${s} cname:c`),
      'a=simulcast:recv 1;~2,3',
      '',
    ].join('\r\n');
    const info = parseSdpUncached(sdp);
    for (const [layer, rtx] of [
      ['100', '101'],
      ['200', '201'],
      ['300', '301'],
    ] as const) {
      expect(info.ssrcs.get(layer)).toMatchObject({
        role: 'primary',
        associatedSsrcs: [rtx],
        simulcastSsrcs: ['100', '200', '300'],
        trackId: 'track',
        mid: 'v0',
      });
      expect(info.ssrcs.get(rtx)).toMatchObject({ role: 'rtx', primarySsrc: layer });
    }
    expect(info.media[0]?.simulcast).toEqual({ recv: ['1', '2', '3'] });
  });
});

describe('parseSdp: Plan B / per-SSRC msid, LF line endings, junk', () => {
  it('per-SSRC msid lines win over the media-level msid', () => {
    const sdp = [
      'v=0',
      'm=audio 9 RTP/SAVPF 111',
      'a=mid:audio',
      'a=ssrc:1 cname:a',
      'a=ssrc:1 msid:s1 t1',
      'a=ssrc:2 cname:b',
      'a=ssrc:2 msid:s2 t2',
      'a=ssrc:notanumber cname:x',
      'a=msid:- tX',
      '',
    ].join('\n');
    const info = parseSdpUncached(sdp);
    expect(info.ssrcs.get('1')).toMatchObject({ cname: 'a', streamId: 's1', trackId: 't1', mid: 'audio' });
    expect(info.ssrcs.get('2')).toMatchObject({ cname: 'b', streamId: 's2', trackId: 't2' });
    expect(info.ssrcs.size).toBe(2);
    expect(info.media[0]?.trackId).toBe('tX');
    expect(info.media[0]?.streamId).toBeUndefined();
  });

  it('never throws; empty input gives an empty result', () => {
    expect(parseSdp('').ssrcs.size).toBe(0);
    expect(parseSdp(undefined).media).toEqual([]);
    expect(parseSdp('garbage\r\nm=\r\na=ssrc-group:FID\r\n').media.length).toBe(1);
  });
});

describe('parseSdp: huge SDPs', () => {
  // 5.5 MB and 0.6 MB. SSRC de-duplication was quadratic (~28 s and ~13 s here); it is linear now
  // (~0.6 s and ~0.1 s). No timed assertion (speed belongs in the bench): these check the results.
  const n = 100_000;

  it(`${n} a=ssrc lines (each SSRC twice) parse: SSRCs in order of first appearance`, () => {
    const lines = ['v=0', 'm=audio 9 UDP/TLS/RTP/SAVPF 111', 'a=mid:0'];
    for (let i = n; i > 0; i--) lines.push(`a=ssrc:${i} cname:c${i}`, `a=ssrc:${i} msid:s t${i}`);
    const info = parseSdpUncached(lines.join('\r\n'));
    const ssrcs = info.media[0]?.ssrcs ?? [];
    expect(ssrcs.length).toBe(n);
    expect([ssrcs[0], ssrcs[1], ssrcs[n - 1]]).toEqual([String(n), String(n - 1), '1']);
    expect(info.ssrcs.get('7')).toMatchObject({ cname: 'c7', trackId: 't7' });
  });

  it(`an a=ssrc-group:FID line of ${n} SSRCs parses: each associated SSRC once`, () => {
    const members = Array.from({ length: n }, (_, i) => i + 2);
    const sdp = ['v=0', 'm=video 9 UDP/TLS/RTP/SAVPF 96', 'a=mid:0', 'a=ssrc:1 cname:x', `a=ssrc-group:FID 1 ${members.join(' ')} 2 3`].join('\r\n');
    const info = parseSdpUncached(sdp);
    const associated = info.ssrcs.get('1')?.associatedSsrcs ?? [];
    expect(associated.length).toBe(n);
    expect([associated[0], associated[n - 1]]).toEqual(['2', String(n + 1)]);
    expect(info.secondaryToPrimary.get(String(n + 1))).toBe('1');
  });

  it('order and de-duplication: interleaved repeats keep first-appearance order, per section', () => {
    const sdp = [
      'v=0',
      'm=audio 9 UDP/TLS/RTP/SAVPF 111',
      'a=mid:a',
      'a=ssrc:3 cname:x',
      'a=ssrc:1 cname:y',
      'a=ssrc:3 msid:s t3',
      'a=ssrc:2 cname:z',
      'a=ssrc:1 msid:s t1',
      'a=ssrc-group:FID 3 4',
      'a=ssrc-group:FID 3 4 5',
      'm=audio 9 UDP/TLS/RTP/SAVPF 111',
      'a=mid:b',
      'a=ssrc:1 cname:w',
      'a=ssrc:6 cname:v',
      '',
    ].join('\r\n');
    const info = parseSdpUncached(sdp);
    expect(info.media.map((m) => m.ssrcs)).toEqual([['3', '1', '2'], ['1', '6']]);
    expect(info.ssrcs.get('3')).toMatchObject({ cname: 'x', trackId: 't3', associatedSsrcs: ['4', '5'] });
    // The same SSRC in a later section: that section's facts.
    expect(info.ssrcs.get('1')).toMatchObject({ cname: 'w', mid: 'b' });
  });
});

describe('parseSdp cache', () => {
  it('re-parsing an identical SDP string returns the cached object', () => {
    const sdp = side(loadFixture('chromium/sfu-20-inbound.json'), 'receiver').remoteSDP;
    const a = parseSdp(sdp);
    const copy = (' ' + sdp).slice(1); // equal content, different string object
    expect(parseSdp(copy)).toBe(a);
    expect(a.ssrcs.size).toBe(30); // 10 audio + 10 video + 10 RTX
  });

  it('is bounded', () => {
    for (let i = 0; i < 100; i++) parseSdp(`v=0\r\nm=audio 9 RTP/AVP 0\r\na=mid:${i}\r\n`);
    expect(sdpCacheSize()).toBeLessThanOrEqual(32);
  });
});

describe('midOfOnlySection', () => {
  it('answers the mid only when one section of the kind exists', () => {
    const one = parseSdp(loadText('chromium/offer-plain.sdp'));
    expect(midOfOnlySection(one, 'video')).toBe('1');
    const many = parseSdp(side(loadFixture('chromium/sfu-20-inbound.json'), 'receiver').remoteSDP);
    expect(midOfOnlySection(many, 'video')).toBeUndefined();
  });
});

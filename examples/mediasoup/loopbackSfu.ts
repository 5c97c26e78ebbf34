/**
 * A loopback stand-in for a mediasoup SFU, for the demo page (examples/mediasoup/) and the
 * browser test (packages/mediasoup/test/mediasoup.browser.test.ts). NOT a server: the mediasoup
 * worker cannot run here, so each "server-side transport" is a plain RTCPeerConnection in the
 * same page that accepts a mediasoup-client transport's ICE and DTLS:
 *
 * 1. The stand-in creates its own offer (recvonly transceivers to receive what the client
 *    produces, or sendonly tracks for what the client consumes), gathers its loopback
 *    candidates, and hands its ICE parameters, candidates and DTLS fingerprint to
 *    `device.createSendTransport()` / `createRecvTransport()` as if the SFU had sent them.
 * 2. mediasoup-client builds its side from them (its remote SDP is made from those parameters).
 * 3. Once the client's RTCPeerConnection has its local description, `connect(clientSdp)` turns
 *    the stand-in's offer into the client's "answer" (the client's ICE credentials, fingerprint,
 *    candidates and SSRCs; DTLS role active) and sets it as the stand-in's remote description.
 *
 * Its codecs are pinned (opus; VP8 + RTX) and `routerRtpCapabilities()` derives the Device's
 * router capabilities from the stand-in's SDP, so payload types match on both sides.
 * `consumerParameters()` gives what a mediasoup server would send for `recvTransport.consume()`:
 * the stand-in's own mid, SSRCs, CNAME and codecs.
 *
 * The client's ICE credentials are only in its RTCPeerConnection's SDP, which mediasoup-client
 * does not expose: `recordPeerConnections()` wraps the global RTCPeerConnection so the page can
 * find the one a transport created (demo/test only — never do this in an app).
 */
import type { types as ms } from 'mediasoup-client';

const NativePeerConnection: typeof RTCPeerConnection = globalThis.RTCPeerConnection;

// ---------------------------------------------------------------------------------------------
// Client RTCPeerConnections

export interface PeerConnectionRecorder {
  /** Every RTCPeerConnection created since recording started, oldest first. */
  readonly created: RTCPeerConnection[];
  /** The newest one (mediasoup-client creates a transport's pc synchronously in createXTransport). */
  last(): RTCPeerConnection;
  restore(): void;
}

export function recordPeerConnections(): PeerConnectionRecorder {
  const created: RTCPeerConnection[] = [];
  class RecordedPeerConnection extends NativePeerConnection {
    constructor(configuration?: RTCConfiguration) {
      super(configuration);
      created.push(this);
    }
  }
  globalThis.RTCPeerConnection = RecordedPeerConnection;
  return {
    created,
    last() {
      const pc = created[created.length - 1];
      if (!pc) throw new Error('no RTCPeerConnection was created');
      return pc;
    },
    restore() {
      if (globalThis.RTCPeerConnection === RecordedPeerConnection) globalThis.RTCPeerConnection = NativePeerConnection;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// SDP helpers (just enough for Chromium's SDP)

interface Section {
  lines: string[];
}

function splitSdp(sdp: string): { session: string[]; media: Section[] } {
  const lines = sdp.split(/\r?\n/).filter((l) => l.length > 0);
  const session: string[] = [];
  const media: Section[] = [];
  for (const line of lines) {
    if (line.startsWith('m=')) media.push({ lines: [line] });
    else if (media.length) media[media.length - 1]!.lines.push(line);
    else session.push(line);
  }
  return { session, media };
}

const joinSdp = (lines: string[]): string => `${lines.join('\r\n')}\r\n`;

function attr(lines: string[], name: string): string | undefined {
  const prefix = `a=${name}:`;
  return lines.find((l) => l.startsWith(prefix))?.slice(prefix.length);
}

function attrs(lines: string[], name: string): string[] {
  const prefix = `a=${name}:`;
  return lines.filter((l) => l.startsWith(prefix)).map((l) => l.slice(prefix.length));
}

function waitForGathering(pc: RTCPeerConnection): Promise<void> {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const check = (): void => {
      if (pc.iceGatheringState !== 'complete') return;
      pc.removeEventListener('icegatheringstatechange', check);
      resolve();
    };
    pc.addEventListener('icegatheringstatechange', check);
  });
}

/** Resolves once `pc` gathered all its candidates (its local description then lists them). */
export const gatheringComplete = waitForGathering;

interface CodecInfo {
  payloadType: number;
  mimeType: string;
  clockRate: number;
  channels?: number;
  parameters: Record<string, string | number>;
  rtcpFeedback: Array<{ type: string; parameter: string }>;
}

function codecsOf(section: Section, kind: string): CodecInfo[] {
  const codecs: CodecInfo[] = [];
  for (const rtpmap of attrs(section.lines, 'rtpmap')) {
    const m = /^(\d+) ([^/]+)\/(\d+)(?:\/(\d+))?$/.exec(rtpmap);
    if (!m) continue;
    const payloadType = Number(m[1]);
    const parameters: Record<string, string | number> = {};
    const fmtp = attrs(section.lines, 'fmtp').find((f) => f.startsWith(`${payloadType} `));
    for (const kv of fmtp?.slice(String(payloadType).length + 1).split(';') ?? []) {
      const [k, v] = kv.trim().split('=');
      if (k && v !== undefined) parameters[k] = /^\d+$/.test(v) ? Number(v) : v;
    }
    const rtcpFeedback = attrs(section.lines, 'rtcp-fb')
      .filter((f) => f.startsWith(`${payloadType} `))
      .map((f) => {
        const [type = '', parameter = ''] = f.slice(String(payloadType).length + 1).split(' ');
        return { type, parameter };
      });
    codecs.push({
      payloadType,
      mimeType: `${kind}/${m[2]}`,
      clockRate: Number(m[3]),
      ...(m[4] ? { channels: Number(m[4]) } : {}),
      parameters,
      rtcpFeedback,
    });
  }
  return codecs;
}

const MID_URI: ms.RtpHeaderExtensionUri = 'urn:ietf:params:rtp-hdrext:sdes:mid';

/** The section's mid header extension (the only one the stand-in signals to mediasoup-client). */
function midExtensionsOf(section: Section): Array<{ uri: ms.RtpHeaderExtensionUri; id: number }> {
  return attrs(section.lines, 'extmap').flatMap((e) => {
    const m = /^(\d+)(?:\/\w+)? (\S+)/.exec(e);
    return m && m[2] === MID_URI ? [{ id: Number(m[1]), uri: MID_URI }] : [];
  });
}

/** The SSRC lines of a section, by role. */
function ssrcsOf(section: Section): { ssrc?: number; rtxSsrc?: number; cname?: string } {
  const fid = attrs(section.lines, 'ssrc-group').find((g) => g.startsWith('FID '));
  const [primary, rtx] = fid ? fid.split(' ').slice(1).map(Number) : [];
  const firstSsrc = attrs(section.lines, 'ssrc')[0];
  const ssrc = primary ?? (firstSsrc ? Number(firstSsrc.split(' ')[0]) : undefined);
  const cname = attrs(section.lines, 'ssrc')
    .map((l) => /^\d+ cname:(\S+)/.exec(l)?.[1])
    .find((c) => c !== undefined);
  return { ...(ssrc !== undefined ? { ssrc } : {}), ...(rtx !== undefined ? { rtxSsrc: rtx } : {}), ...(cname ? { cname } : {}) };
}

/** Keeps only `mimeType` (and its RTX) in a transceiver's codec preferences. */
function pinCodec(transceiver: RTCRtpTransceiver, kind: 'audio' | 'video'): void {
  const capabilities = RTCRtpReceiver.getCapabilities(kind)?.codecs ?? [];
  const wanted = kind === 'audio' ? 'audio/opus' : 'video/vp8';
  const primary = capabilities.filter((c) => c.mimeType.toLowerCase() === wanted);
  const rtx = kind === 'video' ? capabilities.filter((c) => c.mimeType.toLowerCase() === 'video/rtx') : [];
  transceiver.setCodecPreferences([...primary, ...rtx]);
}

// ---------------------------------------------------------------------------------------------
// A stand-in server-side transport

export interface ConsumerParameters {
  kind: 'audio' | 'video';
  rtpParameters: ms.RtpParameters;
}

export class LoopbackTransport {
  private constructor(
    readonly id: string,
    readonly pc: RTCPeerConnection,
    readonly offer: string,
  ) {}

  /**
   * `receive`: kinds the client will produce (a recvonly transceiver each, in produce order).
   * `send`: tracks the stand-in sends for the client to consume.
   */
  static async create(id: string, media: { receive?: Array<'audio' | 'video'>; send?: MediaStreamTrack[] }): Promise<LoopbackTransport> {
    const pc = new NativePeerConnection({ iceServers: [], bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' });
    for (const kind of media.receive ?? []) pinCodec(pc.addTransceiver(kind, { direction: 'recvonly' }), kind);
    for (const track of media.send ?? []) {
      const kind = track.kind === 'audio' ? 'audio' : 'video';
      pinCodec(pc.addTransceiver(track, { direction: 'sendonly', streams: [new MediaStream([track])] }), kind);
    }
    await pc.setLocalDescription(await pc.createOffer());
    await waitForGathering(pc);
    const sdp = pc.localDescription?.sdp;
    if (!sdp) throw new Error('stand-in: no local description');
    return new LoopbackTransport(id, pc, sdp);
  }

  /** What the SFU's signaling would give `device.createSendTransport()` / `createRecvTransport()`. */
  transportOptions(appData: Record<string, unknown> = {}): ms.TransportOptions {
    const { session, media } = splitSdp(this.offer);
    const all = [...session, ...(media[0]?.lines ?? [])];
    const usernameFragment = attr(all, 'ice-ufrag');
    const password = attr(all, 'ice-pwd');
    const fingerprint = attr(all, 'fingerprint');
    if (!usernameFragment || !password || !fingerprint) throw new Error('stand-in: ICE/DTLS parameters missing from its SDP');
    const [algorithm, value] = fingerprint.split(' ');
    const iceCandidates: ms.IceCandidate[] = attrs(media[0]?.lines ?? [], 'candidate').flatMap((c) => {
      const [foundation, component, protocol, priority, address, port, , type] = c.split(' ');
      if (component !== '1' || protocol?.toLowerCase() !== 'udp' || !address || !port) return [];
      return [
        {
          foundation: foundation ?? '1',
          priority: Number(priority),
          address,
          ip: address,
          protocol: 'udp',
          port: Number(port),
          type: (type ?? 'host') as ms.IceCandidate['type'],
        },
      ];
    });
    return {
      id: this.id,
      iceParameters: { usernameFragment, password, iceLite: false },
      iceCandidates,
      dtlsParameters: {
        role: 'auto',
        fingerprints: [{ algorithm: (algorithm ?? 'sha-256') as ms.FingerprintAlgorithm, value: value ?? '' }],
      },
      appData,
    };
  }

  /** What a mediasoup server would answer to consume the stand-in's `index`-th sent track. */
  consumerParameters(index: number): ConsumerParameters {
    const section = splitSdp(this.offer).media[index];
    if (!section) throw new Error(`stand-in: no media section ${index}`);
    const kind = section.lines[0]!.startsWith('m=audio') ? 'audio' : 'video';
    const mid = attr(section.lines, 'mid');
    const codecs = codecsOf(section, kind);
    const primary = codecs.find((c) => !/\/(rtx|red|ulpfec|flexfec-03)$/i.test(c.mimeType));
    if (!primary || !mid) throw new Error('stand-in: no codec/mid in its SDP');
    const rtx = codecs.find((c) => /\/rtx$/i.test(c.mimeType) && Number(c.parameters.apt) === primary.payloadType);
    const { ssrc, rtxSsrc, cname } = ssrcsOf(section);
    if (ssrc === undefined) throw new Error('stand-in: no SSRC in its SDP');
    return {
      kind,
      rtpParameters: {
        mid,
        codecs: [primary, ...(rtx ? [{ ...rtx, rtcpFeedback: [] }] : [])],
        headerExtensions: midExtensionsOf(section),
        encodings: [{ ssrc, ...(rtx && rtxSsrc !== undefined ? { rtx: { ssrc: rtxSsrc } } : {}) }],
        rtcp: { ...(cname ? { cname } : {}), reducedSize: true },
      },
    };
  }

  /** The SSRCs the stand-in sends with, per media section. */
  sentSsrcs(): number[] {
    return splitSdp(this.offer).media.flatMap((s) => {
      const { ssrc } = ssrcsOf(s);
      return ssrc === undefined ? [] : [ssrc];
    });
  }

  /** Completes the stand-in's side with the client RTCPeerConnection's local SDP (after gathering). */
  async connect(clientSdp: string): Promise<void> {
    const client = splitSdp(clientSdp);
    const clientAll = [...client.session, ...client.media.flatMap((s) => s.lines)];
    const ufrag = attr(clientAll, 'ice-ufrag');
    const pwd = attr(clientAll, 'ice-pwd');
    const fingerprint = attr(clientAll, 'fingerprint');
    if (!ufrag || !pwd || !fingerprint) throw new Error('stand-in: the client SDP has no ICE/DTLS parameters');
    const candidates = [...new Set(client.media.flatMap((s) => attrs(s.lines, 'candidate')))];
    const clientByMid = new Map(client.media.map((s) => [attr(s.lines, 'mid'), s] as const));

    const own = splitSdp(this.offer);
    const rewrite = (line: string): string | undefined => {
      if (line.startsWith('a=ice-ufrag:')) return `a=ice-ufrag:${ufrag}`;
      if (line.startsWith('a=ice-pwd:')) return `a=ice-pwd:${pwd}`;
      if (line.startsWith('a=fingerprint:')) return `a=fingerprint:${fingerprint}`;
      if (line === 'a=setup:actpass') return 'a=setup:active'; // the client is the DTLS client
      if (line === 'a=sendonly') return 'a=recvonly';
      if (line === 'a=recvonly') return 'a=sendonly';
      if (/^a=(ssrc|ssrc-group|msid|candidate|end-of-candidates):?/.test(line)) return undefined;
      return line;
    };
    const answer = own.session.map(rewrite).filter((l): l is string => l !== undefined);
    for (const section of own.media) {
      const lines = section.lines.map(rewrite).filter((l): l is string => l !== undefined);
      // What the client sends in this section: its SSRCs (found by mid), so the stand-in can demux.
      const clientSection = clientByMid.get(attr(section.lines, 'mid'));
      if (clientSection && lines.includes('a=sendonly'))
        lines.push(...clientSection.lines.filter((l) => /^a=(ssrc|ssrc-group|msid):/.test(l)));
      lines.push(...candidates.map((c) => `a=candidate:${c}`), 'a=end-of-candidates');
      answer.push(...lines);
    }
    await this.pc.setRemoteDescription({ type: 'answer', sdp: joinSdp(answer) });
  }

  close(): void {
    this.pc.close();
  }
}

/**
 * Router RTP capabilities for `device.load()`, derived from a stand-in's SDP (its pinned codecs
 * with Chromium's payload types, and the mid header extension), so consumers' payload types are
 * what the stand-in really sends.
 */
export function routerRtpCapabilities(...transports: LoopbackTransport[]): ms.RtpCapabilities {
  const codecs: ms.RtpCodecCapability[] = [];
  const headerExtensions: ms.RtpHeaderExtension[] = [];
  for (const transport of transports) {
    for (const section of splitSdp(transport.offer).media) {
      const kind = section.lines[0]!.startsWith('m=audio') ? 'audio' : 'video';
      for (const codec of codecsOf(section, kind)) {
        if (codecs.some((c) => c.preferredPayloadType === codec.payloadType)) continue;
        codecs.push({
          kind,
          mimeType: codec.mimeType,
          preferredPayloadType: codec.payloadType,
          clockRate: codec.clockRate,
          ...(codec.channels !== undefined ? { channels: codec.channels } : {}),
          parameters: codec.parameters,
          rtcpFeedback: codec.rtcpFeedback,
        });
      }
      for (const ext of midExtensionsOf(section)) {
        if (headerExtensions.some((h) => h.kind === kind && h.uri === ext.uri)) continue;
        headerExtensions.push({ kind, uri: ext.uri, preferredId: ext.id, preferredEncrypt: false, direction: 'sendrecv' });
      }
    }
  }
  return { codecs, headerExtensions };
}

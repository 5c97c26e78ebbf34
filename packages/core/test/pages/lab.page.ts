// Page helpers for core's browser tests: real RTCPeerConnection pairs in one page, one side
// monitored by @callmetry/core. Exposed as window.core and window.lab.
import * as core from '@callmetry/core';

type Pair = { pc1: RTCPeerConnection; pc2: RTCPeerConnection; stream: MediaStream };

export interface PairOptions {
  audio?: boolean;
  video?: boolean;
  /** Don't exchange pc1 -> pc2 candidates and give pc1 only this relay port as pc2's address. */
  relay?: boolean;
  /** Corrupt the DTLS fingerprint pc1 sees, so the connection fails right after ICE. */
  breakDtls?: boolean;
}

const pairs = new Map<number, Pair>();
let nextId = 1;

function waitFor(pc: RTCPeerConnection, predicate: () => boolean, event: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    if (predicate()) return resolve();
    const timer = setTimeout(() => reject(new Error(`timeout waiting on ${event}`)), timeoutMs);
    const check = () => {
      if (predicate()) {
        clearTimeout(timer);
        pc.removeEventListener(event, check);
        resolve();
      }
    };
    pc.addEventListener(event, check);
  });
}

const lab = {
  /**
   * Creates pc1 (with fake camera/microphone tracks) and pc2, and negotiates. In relay mode the
   * caller must then call `gatheredPort(id)` and `useRelay(id, port)`.
   */
  async createPair(options: PairOptions = {}): Promise<number> {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: options.audio ?? true, video: options.video ?? true });
    const pc1 = new RTCPeerConnection({ iceServers: [] });
    const pc2 = new RTCPeerConnection({ iceServers: [] });
    const id = nextId++;
    pairs.set(id, { pc1, pc2, stream });
    for (const track of stream.getTracks()) pc1.addTrack(track, stream);
    pc2.ontrack = (e) => {
      if (e.track.kind === 'audio') {
        const audio = document.createElement('audio');
        audio.srcObject = new MediaStream([e.track]);
        audio.autoplay = true;
        document.body.appendChild(audio);
      }
    };
    if (!options.relay) {
      pc1.onicecandidate = (e) => e.candidate && void pc2.addIceCandidate(e.candidate).catch(() => undefined);
      pc2.onicecandidate = (e) => e.candidate && void pc1.addIceCandidate(e.candidate).catch(() => undefined);
    }
    return id;
  },

  pcs(id: number): Pair {
    const pair = pairs.get(id);
    if (!pair) throw new Error(`no pair ${id}`);
    return pair;
  },

  async negotiate(id: number, options: PairOptions = {}): Promise<void> {
    const { pc1, pc2 } = lab.pcs(id);
    const offer = await pc1.createOffer();
    await pc1.setLocalDescription(offer);
    await pc2.setRemoteDescription(offer);
    const answer = await pc2.createAnswer();
    await pc2.setLocalDescription(answer);
    let sdp = answer.sdp ?? '';
    if (options.breakDtls) sdp = sdp.replace(/a=fingerprint:sha-256 ([0-9A-F]{2})/g, (_m, first: string) => `a=fingerprint:sha-256 ${first === '00' ? '11' : '00'}`);
    await pc1.setRemoteDescription({ type: 'answer', sdp });
  },

  /** Relay mode: the UDP port pc2 gathered (after gathering completes). */
  async gatheredPort(id: number): Promise<number> {
    const { pc2 } = lab.pcs(id);
    await waitFor(pc2, () => pc2.iceGatheringState === 'complete', 'icegatheringstatechange', 10_000);
    // Transport in either case: Chromium writes `udp`, Firefox `UDP`.
    const match = /a=candidate:\S+ 1 udp \d+ 127\.0\.0\.1 (\d+) typ host/i.exec(pc2.localDescription?.sdp ?? '');
    if (!match?.[1]) throw new Error(`pc2 gathered no 127.0.0.1 udp candidate:\n${pc2.localDescription?.sdp ?? ''}`);
    return Number(match[1]);
  },

  async useRelay(id: number, relayPort: number): Promise<void> {
    const { pc1 } = lab.pcs(id);
    await pc1.addIceCandidate({ candidate: `candidate:1 1 udp 2122260223 127.0.0.1 ${relayPort} typ host`, sdpMid: '0', sdpMLineIndex: 0 });
  },

  async waitConnected(id: number, timeoutMs = 10_000): Promise<void> {
    const { pc1 } = lab.pcs(id);
    await waitFor(pc1, () => pc1.connectionState === 'connected', 'connectionstatechange', timeoutMs);
  },

  close(id: number): void {
    const pair = pairs.get(id);
    if (!pair) return;
    pair.pc1.close();
    pair.pc2.close();
    for (const t of pair.stream.getTracks()) t.stop();
    pairs.delete(id);
  },
};

declare global {
  interface Window {
    core: typeof core;
    lab: typeof lab;
  }
}
window.core = core;
window.lab = lab;

// Page entry (bundled by the harness) for the media side of the Twilio signaling stand-in: a real
// RTCPeerConnection that plays the part of Twilio's media server for one Room. It sends a real
// audio and video track (Chromium's fake devices) on behalf of the remote participant, answers the
// client's offers and can offer itself (a data channel for `active_speaker`). Driven from Node by
// test/standin/standin.ts through `window.sfu`.

export interface SfuTrack {
  id: string;
  kind: 'audio' | 'video';
}

export interface SfuSummary {
  connectionState: string;
  inboundKinds: string[];
  outboundKinds: string[];
}

let pc: RTCPeerConnection | undefined;
let media: MediaStream | undefined;
const channels = new Map<string, RTCDataChannel>();
const received: Record<string, unknown[]> = {};

async function gatheringComplete(p: RTCPeerConnection): Promise<void> {
  if (p.iceGatheringState === 'complete') return;
  await new Promise<void>((ok) => {
    const check = (): void => {
      if (p.iceGatheringState !== 'complete') return;
      p.removeEventListener('icegatheringstatechange', check);
      ok();
    };
    p.addEventListener('icegatheringstatechange', check);
    setTimeout(ok, 3000); // loopback gathering takes milliseconds; never hang the stand-in
  });
}

function ensurePc(): RTCPeerConnection {
  if (pc && pc.signalingState !== 'closed') return pc;
  pc = new RTCPeerConnection({ iceServers: [] });
  return pc;
}

const sfu = {
  /** Captures the remote participant's media; returns its track ids (they appear in the SDP's msid). */
  async start(): Promise<SfuTrack[]> {
    media ??= await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 320, height: 240 } });
    return media.getTracks().map((t) => ({ id: t.id, kind: t.kind as 'audio' | 'video' }));
  },

  /** Answers the client's offer, sending the remote participant's tracks on the offered m-lines. */
  async answer(sdp: string): Promise<string> {
    const p = ensurePc();
    await p.setRemoteDescription({ type: 'offer', sdp });
    if (media) {
      // addTrack reuses the offered transceiver of the same kind (one never used to send).
      for (const track of media.getTracks()) {
        if (p.getSenders().some((s) => s.track === track)) continue;
        p.addTrack(track, media);
      }
    }
    await p.setLocalDescription(await p.createAnswer());
    await gatheringComplete(p);
    return p.localDescription?.sdp ?? '';
  },

  /** An offer from the media side (e.g. after adding a data channel); returns its SDP. */
  async offer(): Promise<string> {
    const p = ensurePc();
    await p.setLocalDescription(await p.createOffer());
    await gatheringComplete(p);
    return p.localDescription?.sdp ?? '';
  },

  async acceptAnswer(sdp: string): Promise<void> {
    await ensurePc().setRemoteDescription({ type: 'answer', sdp });
  },

  async addCandidates(candidates: RTCIceCandidateInit[]): Promise<void> {
    const p = ensurePc();
    for (const c of candidates) {
      if (!c.candidate) continue;
      await p.addIceCandidate(c).catch(() => undefined);
    }
  },

  /** Opens a data channel (a Twilio media signaling channel such as `active_speaker`). */
  createChannel(label: string): void {
    const ch = ensurePc().createDataChannel(label);
    received[label] = [];
    ch.onmessage = (e) => {
      try {
        received[label]?.push(JSON.parse(String(e.data)));
      } catch {
        received[label]?.push(String(e.data));
      }
    };
    channels.set(label, ch);
  },

  channelState(label: string): string {
    return channels.get(label)?.readyState ?? 'none';
  },

  received(label: string): unknown[] {
    return received[label] ?? [];
  },

  send(label: string, message: unknown): boolean {
    const ch = channels.get(label);
    if (!ch || ch.readyState !== 'open') return false;
    ch.send(JSON.stringify(message));
    return true;
  },

  async summary(): Promise<SfuSummary> {
    const p = ensurePc();
    const inbound: string[] = [];
    const outbound: string[] = [];
    (await p.getStats()).forEach((s: { type: string; kind?: string; packetsReceived?: number; packetsSent?: number }) => {
      if (s.type === 'inbound-rtp' && (s.packetsReceived ?? 0) > 0 && s.kind) inbound.push(s.kind);
      if (s.type === 'outbound-rtp' && (s.packetsSent ?? 0) > 0 && s.kind) outbound.push(s.kind);
    });
    return { connectionState: p.connectionState, inboundKinds: inbound.sort(), outboundKinds: outbound.sort() };
  },

  /** Ends the media side (a new Room gets a fresh peer connection). */
  reset(): void {
    for (const ch of channels.values()) ch.close();
    channels.clear();
    pc?.close();
    pc = undefined;
  },
};

declare global {
  interface Window {
    sfu: typeof sfu;
  }
}
window.sfu = sfu;

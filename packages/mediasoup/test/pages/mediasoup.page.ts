// Page side of mediasoup.browser.test.ts: the real mediasoup-client (bundled by the harness)
// with a Device attached to a @callmetry/core monitor, connected to the loopback SFU stand-in of
// examples/mediasoup/loopbackSfu.ts (plain RTCPeerConnections in this page). Exposed as
// window.msTest; every step returns JSON for the Node side to assert on.
import { Device, type types as ms } from 'mediasoup-client';
import { createMonitor, type Fabric, type FabricStats, type Monitor } from '@callmetry/core';
import { attachMediasoup, type AttachMediasoupOptions } from '../../src/index';
import {
  LoopbackTransport,
  gatheringComplete,
  recordPeerConnections,
  routerRtpCapabilities,
  type PeerConnectionRecorder,
} from '../../../../examples/mediasoup/loopbackSfu';

export interface SeenEvent {
  fabricID: string;
  event: string;
  data?: Record<string, unknown>;
}
export interface SeenError {
  fabricID?: string;
  webRTCFunction: string;
  category: string;
  name?: string;
  message: string;
}
export interface SeenStream {
  fabricID: string;
  ssrc: string;
  statsType: string;
  mediaType: string;
  userID: string;
  remoteUserID: string;
  usageLabel?: string;
  mid?: string;
}

interface State {
  monitor: Monitor;
  recorder: PeerConnectionRecorder;
  device: Device;
  detach: () => void;
  standInSend: LoopbackTransport;
  standInRecv: LoopbackTransport;
  sendTransport: ms.Transport;
  recvTransport: ms.Transport;
  clientSendPc: RTCPeerConnection;
  clientRecvPc: RTCPeerConnection;
  micTrack: MediaStreamTrack;
  camTrack: MediaStreamTrack;
  mic: ms.Producer;
  cam: ms.Producer;
  screen?: ms.Producer;
  audioConsumer: ms.Consumer;
  videoConsumer: ms.Consumer;
  events: SeenEvent[];
  errors: SeenError[];
  samples: FabricStats[];
}

let state: State | undefined;
const s = (): State => {
  if (!state) throw new Error('msTest.setup() first');
  return state;
};

function waitFor(predicate: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const tick = (): void => {
      if (predicate()) return resolve();
      if (Date.now() - started > timeoutMs) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 50);
    };
    tick();
  });
}

function fabricOf(transport: ms.Transport): Fabric {
  const direction = transport.direction === 'send' ? 'sendonly' : 'receiveonly';
  const fabric = s().monitor.fabrics().find((f) => f.direction === direction);
  if (!fabric) throw new Error(`no fabric for transport ${transport.id}`);
  return fabric;
}

const msTest = {
  /**
   * Stand-ins, a loaded Device attached (twice) to a fresh monitor, a connected send transport
   * producing mic + camera and a connected recv transport consuming the stand-in's audio (of
   * 'alice', by appData.userId) and video (of 'alice', by appData.peerId).
   */
  async setup(peerConnection: 'auto' | 'public') {
    const recorder = recordPeerConnections();
    const monitor = createMonitor({ appID: 'mediasoup-test', localUserID: 'me', statsIntervalMs: 1000 });
    const events: SeenEvent[] = [];
    const errors: SeenError[] = [];
    const samples: FabricStats[] = [];
    monitor.on('fabricEvent', (e) => events.push({ fabricID: e.fabricID, event: e.event, ...(e.data ? { data: e.data } : {}) }));
    monitor.on('error', (e) => {
      const { fabricID, webRTCFunction, category, name, message } = e;
      errors.push({ ...(fabricID ? { fabricID } : {}), webRTCFunction, category, ...(name ? { name } : {}), message });
    });
    monitor.on('sample', (stats) => samples.push(stats));

    // The SFU stand-in: receives mic + camera, sends its own fake audio + video.
    const remoteMedia = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
    const standInSend = await LoopbackTransport.create('send-transport-1', { receive: ['audio', 'video'] });
    const standInRecv = await LoopbackTransport.create('recv-transport-1', { send: remoteMedia.getTracks() });

    // The handler mediasoup-client picks for this browser (Chrome111 in Chromium, Firefox120 in Firefox).
    const device = new Device();
    await device.load({ routerRtpCapabilities: routerRtpCapabilities(standInRecv, standInSend) });
    const options: AttachMediasoupOptions = { conferenceID: (t) => String(t.appData.room), remoteUserID: 'sfu-1', peerConnection };
    const detach = attachMediasoup(device, monitor, options);
    const again = attachMediasoup(device, monitor, options);

    // Send transport: the app's signaling answers 'connect' and 'produce' at once.
    const sendTransport = device.createSendTransport(standInSend.transportOptions({ room: 'room-1' }));
    const clientSendPc = recorder.last();
    sendTransport.on('connect', (_params, callback) => callback());
    sendTransport.on('produce', ({ kind, appData }, callback) => callback({ id: `producer-${kind}-${String(appData.source)}` }));
    const local = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
    const micTrack = local.getAudioTracks()[0]!;
    const camTrack = local.getVideoTracks()[0]!;
    const mic = await sendTransport.produce({ track: micTrack, appData: { source: 'mic' } });
    const cam = await sendTransport.produce({ track: camTrack, appData: { source: 'webcam' } });
    await gatheringComplete(clientSendPc);
    await standInSend.connect(clientSendPc.localDescription!.sdp);

    // Recv transport: consumers made from the stand-in's own SSRCs/mids/codecs.
    const recvTransport = device.createRecvTransport(standInRecv.transportOptions({ room: 'room-1' }));
    const clientRecvPc = recorder.last();
    recvTransport.on('connect', (_params, callback) => callback());
    const audioParams = standInRecv.consumerParameters(0);
    const videoParams = standInRecv.consumerParameters(1);
    const audioConsumer = await recvTransport.consume({
      id: 'consumer-audio',
      producerId: 'alice-mic',
      ...audioParams,
      appData: { userId: 'alice', source: 'mic' },
    });
    const videoConsumer = await recvTransport.consume({
      id: 'consumer-video',
      producerId: 'alice-cam',
      ...videoParams,
      appData: { peerId: 'alice' },
    });
    // Play the inbound audio (Chromium discards it otherwise).
    const audio = document.createElement('audio');
    audio.srcObject = new MediaStream([audioConsumer.track]);
    audio.autoplay = true;
    document.body.appendChild(audio);
    await gatheringComplete(clientRecvPc);
    await standInRecv.connect(clientRecvPc.localDescription!.sdp);

    state = {
      monitor, recorder, device, detach, standInSend, standInRecv, sendTransport, recvTransport, clientSendPc, clientRecvPc,
      micTrack, camTrack, mic, cam, audioConsumer, videoConsumer, events, errors, samples,
    };
    await waitFor(() => sendTransport.connectionState === 'connected' && recvTransport.connectionState === 'connected', 'transports connected');
    const sendFabric = fabricOf(sendTransport);
    const recvFabric = fabricOf(recvTransport);
    await waitFor(
      () => [sendFabric, recvFabric].every((f) => events.some((e) => e.fabricID === f.id && e.event === 'fabricSetup')),
      'fabricSetup of both fabrics',
    );
    return {
      handlerName: device.handlerName,
      sameDetach: again === detach,
      fabrics: monitor.fabrics().length,
      send: {
        fabricID: sendFabric.id,
        direction: sendFabric.direction,
        conferenceID: sendFabric.conferenceID,
        remoteUserID: sendFabric.remoteUserID,
        remoteEndpointType: sendFabric.remoteEndpointType,
        usesClientPc: sendFabric.pc === (clientSendPc as unknown),
      },
      recv: {
        fabricID: recvFabric.id,
        direction: recvFabric.direction,
        conferenceID: recvFabric.conferenceID,
        remoteUserID: recvFabric.remoteUserID,
        remoteEndpointType: recvFabric.remoteEndpointType,
        usesClientPc: recvFabric.pc === (clientRecvPc as unknown),
      },
      producers: {
        mic: { id: mic.id, ssrc: mic.rtpParameters.encodings?.[0]?.ssrc, mid: mic.rtpParameters.mid },
        cam: { id: cam.id, ssrc: cam.rtpParameters.encodings?.[0]?.ssrc, mid: cam.rtpParameters.mid },
      },
      consumers: {
        audio: { id: audioConsumer.id, ssrc: audioConsumer.rtpParameters.encodings?.[0]?.ssrc },
        video: { id: videoConsumer.id, ssrc: videoConsumer.rtpParameters.encodings?.[0]?.ssrc },
      },
      standInSentSsrcs: standInRecv.sentSsrcs(),
    };
  },

  /** Polls both fabrics until the producers' and consumers' streams show up in a sample with bytes flowing. */
  async mappedStreams(): Promise<SeenStream[]> {
    const { monitor, samples } = s();
    const latest = (): SeenStream[] => {
      const byFabric = new Map<string, FabricStats>();
      for (const sample of samples) byFabric.set(sample.fabricID, sample);
      return [...byFabric.values()].flatMap((sample) =>
        sample.mediaStreamTracks.map((t) => ({
          fabricID: sample.fabricID,
          ssrc: t.ssrc,
          statsType: t.statsType,
          mediaType: t.mediaType,
          userID: t.userID,
          remoteUserID: t.remoteUserID,
          ...(t.usageLabel !== undefined ? { usageLabel: t.usageLabel } : {}),
          ...(t.mid !== undefined ? { mid: t.mid } : {}),
        })),
      );
    };
    const complete = (): boolean => {
      const streams = latest();
      const count = (type: string) => streams.filter((x) => x.statsType === type).length;
      return count('outbound-rtp') >= 2 && count('inbound-rtp') >= 2;
    };
    const started = Date.now();
    while (!complete()) {
      if (Date.now() - started > 15_000) throw new Error(`streams never showed up: ${JSON.stringify(latest())}`);
      await Promise.all(monitor.fabrics().map((f) => f.pollNow()));
      await new Promise((r) => setTimeout(r, 250));
    }
    return latest();
  },

  /** Screen share, pauses and resumes, a track that ends by itself, and the screen share's end. */
  async actions() {
    const st = s();
    const screenTrack = st.camTrack.clone();
    st.screen = await st.sendTransport.produce({ track: screenTrack, appData: { source: 'screen' } });
    st.mic.pause();
    st.mic.resume();
    st.cam.pause();
    st.cam.resume();
    st.videoConsumer.pause();
    st.videoConsumer.resume();
    st.audioConsumer.pause();
    st.audioConsumer.resume();
    // A track ended by the browser (device unplugged, permission revoked) fires 'ended'. Firefox
    // (ESR 153) runs only `onended` for a dispatched one, not addEventListener's listeners (which
    // mediasoup-client uses): the probe tells the test which happened.
    let endedReachedListeners = false;
    st.camTrack.addEventListener('ended', () => (endedReachedListeners = true), { once: true });
    st.camTrack.dispatchEvent(new Event('ended'));
    st.screen.close();
    return { screenId: st.screen.id, endedReachedListeners };
  },

  /** Closes the send transport (the recv one stays). */
  async closeSendTransport() {
    const st = s();
    st.sendTransport.close();
    st.standInSend.close();
    await waitFor(() => st.monitor.fabrics().length === 1, 'send fabric released');
    return { fabrics: st.monitor.fabrics().length };
  },

  /**
   * Detaches, then keeps using mediasoup-client (pause/resume, a new transport, closing the recv
   * transport) and waits past two stats intervals: nothing more may be reported.
   */
  async detachAndContinue() {
    const st = s();
    st.detach();
    const counts = () => ({ events: st.events.length, errors: st.errors.length, samples: st.samples.length });
    const atDetach = counts();
    const fabricsAfterDetach = st.monitor.fabrics().length;
    st.videoConsumer.pause();
    st.audioConsumer.resume();
    const extra = st.device.createSendTransport(st.standInSend.transportOptions({ room: 'room-1' }));
    await new Promise((r) => setTimeout(r, 2500));
    st.recvTransport.close();
    extra.close();
    st.standInRecv.close();
    await new Promise((r) => setTimeout(r, 200));
    const after = counts();
    const result = { atDetach, after, fabricsAfterDetach, fabricsAtEnd: st.monitor.fabrics().length };
    await st.monitor.close();
    st.recorder.restore();
    return result;
  },

  seen() {
    const st = s();
    return { events: st.events, errors: st.errors };
  },
};

declare global {
  interface Window {
    msTest: typeof msTest;
  }
}
window.msTest = msTest;

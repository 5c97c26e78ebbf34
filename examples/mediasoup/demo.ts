/**
 * Demo: monitoring a mediasoup-client Device with @callmetry/mediasoup.
 *
 * What an app does is the part marked "APP": create a monitor, attach the adapter to the Device
 * right after creating it, and put who-is-who in appData. Everything marked "DEMO" replaces the
 * SFU and its signaling: the mediasoup server cannot run here, so the "server-side transports"
 * are plain RTCPeerConnections in this page (./loopbackSfu.ts) and media goes over loopback.
 *
 * Built by ./build.mjs (run by `npm run build` in packages/mediasoup) into ./dist/demo.js, which
 * bundles mediasoup-client and the stand-in but imports the adapter's own build from
 * /packages/mediasoup/dist/index.mjs; core comes from /packages/core/dist/callstats.min.js
 * (global `Callmetry`), loaded by index.html.
 */
import { Device, type types as ms } from 'mediasoup-client';
import type { FabricStats, Monitor } from '@callmetry/core';
// Rewritten by build.mjs to the adapter's build: /packages/mediasoup/dist/index.mjs.
import { attachMediasoup } from '../../packages/mediasoup/src/index';
import { LoopbackTransport, gatheringComplete, recordPeerConnections, routerRtpCapabilities } from './loopbackSfu';

declare const Callmetry: typeof import('@callmetry/core');

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const logBox = $<HTMLPreElement>('log');
function log(text: string): void {
  logBox.textContent = `${new Date().toISOString().slice(11, 23)}  ${text}\n${logBox.textContent ?? ''}`;
}

interface Call {
  monitor: Monitor;
  detach: () => void;
  sendTransport: ms.Transport;
  recvTransport: ms.Transport;
  mic: ms.Producer;
  cam: ms.Producer;
  screen?: ms.Producer;
  standIns: LoopbackTransport[];
}
let call: Call | undefined;

const escape = (value: unknown): string => String(value ?? '').replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

function renderStats(stats: FabricStats): void {
  const rows = stats.mediaStreamTracks
    .map(
      (t) =>
        `<tr>${[stats.fabricID, t.statsType, t.mediaType, t.ssrc, t.userID, t.usageLabel, t.bitrate?.toFixed(0)]
          .map((v) => `<td>${escape(v)}</td>`)
          .join('')}</tr>`,
    )
    .join('');
  const table = $<HTMLTableSectionElement>('stats');
  const id = `fabric-${stats.fabricID}`;
  let body = document.getElementById(id);
  if (!body) {
    body = document.createElement('tbody');
    body.id = id;
    table.after(body);
  }
  body.innerHTML = rows;
}

async function start(): Promise<void> {
  // ---- APP: the monitor. Served by the collector (--serve-examples), data goes to it with its demo
  // app; ?local=1 keeps everything in the page. Real apps use a tokenGenerator, not a secret.
  const params = new URLSearchParams(location.search);
  const toCollector = params.get('local') !== '1' && location.protocol.startsWith('http');
  const monitor = Callmetry.createMonitor({
    appID: params.get('appID') ?? 'demo-app',
    localUserID: params.get('user') ?? 'demo-user',
    ...(toCollector ? { collectorURL: location.origin, appSecret: params.get('appSecret') ?? 'demo-secret' } : {}),
    statsIntervalMs: 1000,
    statsCallbackIntervalMs: 1000,
  });
  monitor.on('fabricEvent', (e) => log(`fabric ${e.fabricID}: ${e.event}${e.data ? ` ${JSON.stringify(e.data)}` : ''}`));
  monitor.on('error', (e) => log(`error (${e.category}): ${e.name ?? ''} ${e.message}`));
  monitor.on('stats', renderStats);
  monitor.on('transport', (s) => log(`collector: ${s.state}${s.message ? ` (${s.message})` : ''}`));

  // ---- DEMO: the SFU stand-in (receives our mic + camera, sends a "remote" user's media).
  const recorder = recordPeerConnections();
  const remote = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
  const standInSend = await LoopbackTransport.create('send-1', { receive: ['audio', 'video'] });
  const standInRecv = await LoopbackTransport.create('recv-1', { send: remote.getTracks() });

  // ---- APP: the Device, attached right after it is created.
  const device = new Device();
  const detach = attachMediasoup(device, monitor, { conferenceID: 'demo-room', remoteUserID: 'sfu' });
  await device.load({ routerRtpCapabilities: routerRtpCapabilities(standInRecv, standInSend) });

  // ---- APP: send transport; the 'connect'/'produce' callbacks would go through the app's signaling.
  const sendTransport = device.createSendTransport(standInSend.transportOptions());
  const clientSendPc = recorder.last(); // DEMO only
  sendTransport.on('connect', (_p, callback) => callback());
  sendTransport.on('produce', ({ kind, appData }, callback) => callback({ id: `${kind}-${String(appData.source)}` }));
  const local = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
  $<HTMLVideoElement>('local').srcObject = local;
  // appData.source becomes the stream's usage label; a screen share is {source: 'screen'} or {share: true}.
  const mic = await sendTransport.produce({ track: local.getAudioTracks()[0]!, appData: { source: 'mic' } });
  const cam = await sendTransport.produce({ track: local.getVideoTracks()[0]!, appData: { source: 'webcam' } });
  await gatheringComplete(clientSendPc); // DEMO
  await standInSend.connect(clientSendPc.localDescription!.sdp); // DEMO

  // ---- APP: recv transport; the server tells who produced each consumer: put it in appData.userId.
  const recvTransport = device.createRecvTransport(standInRecv.transportOptions());
  const clientRecvPc = recorder.last(); // DEMO only
  recvTransport.on('connect', (_p, callback) => callback());
  const audio = await recvTransport.consume({ id: 'c-audio', producerId: 'p-audio', ...standInRecv.consumerParameters(0), appData: { userId: 'remote-user', source: 'mic' } });
  const video = await recvTransport.consume({ id: 'c-video', producerId: 'p-video', ...standInRecv.consumerParameters(1), appData: { userId: 'remote-user', source: 'webcam' } });
  $<HTMLVideoElement>('remote').srcObject = new MediaStream([audio.track, video.track]);
  await gatheringComplete(clientRecvPc); // DEMO
  await standInRecv.connect(clientRecvPc.localDescription!.sdp); // DEMO
  recorder.restore(); // DEMO

  call = { monitor, detach, sendTransport, recvTransport, mic, cam, standIns: [standInSend, standInRecv] };
  setButtons(true);
}

async function toggleScreen(): Promise<void> {
  if (!call) return;
  if (call.screen) {
    call.screen.close(); // screenShareStop
    call.screen = undefined;
    return;
  }
  // A real screen if the browser lets us, else a copy of the camera.
  const track = await navigator.mediaDevices
    .getDisplayMedia({ video: true })
    .then((s) => s.getVideoTracks()[0])
    .catch(() => undefined);
  call.screen = await call.sendTransport.produce({ track: track ?? call.cam.track!.clone(), appData: { source: 'screen' } }); // screenShareStart
}

function hangUp(): void {
  if (!call) return;
  call.sendTransport.close(); // both fabrics: fabricTerminated
  call.recvTransport.close();
  for (const standIn of call.standIns) standIn.close();
  void call.monitor.close();
  call = undefined;
  setButtons(false);
}

function setButtons(inCall: boolean): void {
  $<HTMLButtonElement>('start').disabled = inCall;
  for (const id of ['mute', 'pause', 'screen', 'hangup', 'detach']) $<HTMLButtonElement>(id).disabled = !inCall;
}

const safely = (fn: () => unknown) => () => {
  Promise.resolve()
    .then(fn)
    .catch((e: unknown) => log(`demo error: ${String(e)}`));
};
$('start').addEventListener('click', safely(start));
$('mute').addEventListener('click', safely(() => (call?.mic.paused ? call.mic.resume() : call?.mic.pause()))); // audioUnmute / audioMute
$('pause').addEventListener('click', safely(() => (call?.cam.paused ? call.cam.resume() : call?.cam.pause()))); // videoResume / videoPause
$('screen').addEventListener('click', safely(toggleScreen));
$('hangup').addEventListener('click', safely(hangUp));
$('detach').addEventListener('click', safely(() => {
  call?.detach(); // monitoring stops (fabrics terminated); the call goes on
  log('detached: the call goes on, unmonitored');
}));
setButtons(false);
log('ready: press "Start call"');

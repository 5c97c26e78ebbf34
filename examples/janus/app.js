// Callmetry + Janus video room example. Served at /examples/janus/ by the collector
// (`npm start`, i.e. `callmetry-collector --serve-examples`), which also serves /packages/.
// Globals: `Callmetry` (core's browser build), `Janus` and `adapter` (./dist/janus.js). The
// adapter's ESM build imports only `attachAdapter` from @callmetry/core, which index.html's import
// map points at core's ESM build.
//
// Everything below except the two lines marked "Callmetry" is ordinary janus.js VideoRoom code.
import { attachJanus } from '/packages/janus/dist/index.mjs';

const params = new URLSearchParams(location.search);
const $ = (id) => document.getElementById(id);
const log = (...parts) => {
  $('log').textContent += `${new Date().toISOString().slice(11, 23)} ${parts.map((p) => (typeof p === 'string' ? p : JSON.stringify(p))).join(' ')}\n`;
  $('log').scrollTop = $('log').scrollHeight;
};
for (const id of ['server', 'room', 'display', 'appID', 'appSecret']) {
  if (params.has(id)) $(id).value = params.get(id);
}
// `?collector=none`: monitor locally only (callbacks work, nothing is sent).
const COLLECTOR = params.get('collector') ?? location.origin;
const ICE_SERVERS = params.has('stun') ? [{ urls: params.get('stun') }] : [];

let janus = null;
let monitor = null;
let detach = () => {};
let pub = null; // publisher handle
let sub = null; // the one multistream subscriber handle
let myId = null;
let privateId = null;
let room = 0;
const subscribed = new Set();
let subscribing = Promise.resolve();
const midInfo = new Map(); // subscriber mid -> {feed_id, feed_display, type}
const muted = { audio: false, video: false };

function status(text) {
  $('status').textContent = text;
}

function setButtons(joined) {
  $('connect').disabled = joined;
  $('leave').disabled = !joined;
  $('mute-audio').disabled = !joined;
  $('mute-video').disabled = !joined;
  $('mute-audio').textContent = muted.audio ? 'Unmute mic' : 'Mute mic';
  $('mute-video').textContent = muted.video ? 'Start camera' : 'Stop camera';
}

function initJanus() {
  return new Promise((resolve) => Janus.init({ debug: ['warn', 'error'], dependencies: Janus.useDefaultDependencies({ adapter }), callback: resolve }));
}

function send(handle, message, jsep) {
  return new Promise((resolve, reject) => handle.send({ message, jsep, success: resolve, error: reject }));
}

// ---- remote media -----------------------------------------------------------------------------

function feedTile(mid) {
  let fig = document.getElementById(`mid-${mid}`);
  if (!fig) {
    fig = document.createElement('figure');
    fig.id = `mid-${mid}`;
    fig.append(document.createElement('figcaption'));
    $('feeds').append(fig);
  }
  const info = midInfo.get(mid);
  fig.querySelector('figcaption').textContent = info?.feed_display ? `${info.feed_display} (${info.type}, mid ${mid})` : `mid ${mid}`;
  return fig;
}

function onRemoteTrack(track, mid, on) {
  const fig = feedTile(mid);
  fig.querySelector('video, audio')?.remove();
  if (!on) {
    fig.remove();
    return;
  }
  const el = document.createElement(track.kind === 'video' ? 'video' : 'audio');
  el.autoplay = true;
  el.playsInline = true;
  el.srcObject = new MediaStream([track]);
  fig.prepend(el);
}

// ---- subscriber -------------------------------------------------------------------------------

function subscribeTo(feeds) {
  const todo = feeds.filter((f) => f !== myId && !subscribed.has(f));
  if (todo.length === 0) return;
  todo.forEach((f) => subscribed.add(f));
  const streams = todo.map((feed) => ({ feed }));
  subscribing = subscribing.then(async () => {
    if (!sub) {
      sub = await new Promise((resolve, reject) =>
        janus.attach({
          plugin: 'janus.plugin.videoroom',
          success: resolve,
          error: reject,
          onmessage: onSubscriberMessage,
          onremotetrack: onRemoteTrack,
        }),
      );
      await send(sub, { request: 'join', ptype: 'subscriber', room, private_id: privateId, streams });
    } else {
      await send(sub, { request: 'subscribe', streams });
    }
  }).catch((e) => log('subscribe failed:', String(e)));
}

function onSubscriberMessage(msg, jsep) {
  if (msg.error) log('subscriber error:', msg.error);
  if ((msg.videoroom === 'attached' || msg.videoroom === 'updated') && Array.isArray(msg.streams)) {
    for (const s of msg.streams) {
      midInfo.set(String(s.mid), s);
      if (document.getElementById(`mid-${s.mid}`)) feedTile(String(s.mid));
    }
  }
  if (jsep) {
    sub.createAnswer({
      jsep,
      tracks: [{ type: 'data' }], // audio/video offered by Janus are accepted recvonly
      success: (answer) => send(sub, { request: 'start', room }, answer).catch((e) => log('start failed:', String(e))),
      error: (e) => log('createAnswer failed:', String(e)),
    });
  }
}

// ---- publisher --------------------------------------------------------------------------------

function onPublisherMessage(msg, jsep) {
  if (jsep) pub.handleRemoteJsep({ jsep });
  if (msg.error) {
    log('videoroom error:', msg.error);
    status(`error: ${msg.error}`);
  }
  if (msg.videoroom === 'joined') {
    myId = msg.id;
    privateId = msg.private_id;
    status(`in room ${msg.room} as ${$('display').value} (feed ${myId})`);
    pub.createOffer({
      tracks: [{ type: 'audio', capture: true, recv: false }, { type: 'video', capture: true, recv: false }],
      success: (offer) => send(pub, { request: 'configure', audio: true, video: true }, offer),
      error: (e) => log('createOffer failed:', String(e)),
    });
  }
  if (Array.isArray(msg.publishers)) subscribeTo(msg.publishers.map((p) => p.id));
  if (msg.leaving !== undefined && msg.leaving !== 'ok') log(`feed ${msg.leaving} left`);
}

async function join(event) {
  event.preventDefault();
  room = Number($('room').value);
  const display = $('display').value;
  // Callmetry (1/2): a monitor for this user.
  monitor = Callmetry.createMonitor({
    appID: $('appID').value,
    localUserID: display,
    ...(COLLECTOR === 'none' ? {} : { collectorURL: COLLECTOR, appSecret: $('appSecret').value }),
  });
  monitor.on('fabricEvent', (e) => log('fabricEvent', e.event, e.conferenceID, e.data ?? ''));
  monitor.on('error', (e) => log('error', e.webRTCFunction, e.message));
  monitor.on('sample', showStreams);
  monitor.on('transport', (s) => log('collector', s.state, s.message ?? ''));
  await initJanus();
  status('connecting...');
  janus = new Janus({
    server: $('server').value,
    iceServers: ICE_SERVERS,
    success: () => {
      // Callmetry (2/2): every plugin handle of this session is monitored from now on.
      detach = attachJanus(janus, monitor);
      janus.attach({
        plugin: 'janus.plugin.videoroom',
        opaqueId: `callmetry-example-${Janus.randomString(8)}`,
        success: (handle) => {
          pub = handle;
          send(pub, { request: 'join', ptype: 'publisher', room, display }).catch((e) => log('join failed:', String(e)));
        },
        error: (e) => status(`attach failed: ${e}`),
        onmessage: onPublisherMessage,
        webrtcState: (up, reason) => log('publisher webrtcState', up, reason ?? ''),
        slowLink: (uplink, lost) => log('slowLink', uplink ? 'uplink' : 'downlink', lost),
      });
      setButtons(true);
    },
    error: (e) => {
      status(`Janus error: ${e}`);
      setButtons(false);
    },
    destroyed: () => status('left'),
  });
}

function leave() {
  janus?.destroy({}); // the adapter sees it: fabrics terminated, adapter detached
  detach();
  void monitor?.close();
  janus = pub = sub = myId = null;
  subscribed.clear();
  midInfo.clear();
  $('feeds').replaceChildren();
  setButtons(false);
}

function showStreams(stats) {
  const rows = [...$('streams').querySelectorAll(`tr[data-fabric="${stats.fabricID}"]`)];
  rows.forEach((r) => r.remove());
  for (const s of stats.mediaStreamTracks.filter((t) => t.statsType === 'inbound-rtp')) {
    const tr = document.createElement('tr');
    tr.dataset.fabric = stats.fabricID;
    for (const v of [stats.fabricID, s.mid ?? '', s.mediaType, s.userID, s.bitrate !== undefined ? s.bitrate.toFixed(0) : '']) {
      const td = document.createElement('td');
      td.textContent = v;
      tr.append(td);
    }
    $('streams').append(tr);
  }
}

$('join').addEventListener('submit', (e) => void join(e));
$('leave').addEventListener('click', leave);
$('mute-audio').addEventListener('click', () => {
  muted.audio = !muted.audio;
  if (muted.audio) pub?.muteAudio(); // -> audioMute
  else pub?.unmuteAudio(); // -> audioUnmute
  setButtons(true);
});
$('mute-video').addEventListener('click', () => {
  muted.video = !muted.video;
  if (muted.video) pub?.muteVideo(); // -> videoPause
  else pub?.unmuteVideo(); // -> videoResume
  setButtons(true);
});
setButtons(false);
if (params.get('autojoin') === '1' && $('server').value) $('join').requestSubmit();

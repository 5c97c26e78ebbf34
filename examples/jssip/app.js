// Callmetry + JsSIP softphone example. Served at /examples/jssip/ by the collector
// (`npm start`, i.e. `callmetry-collector --serve-examples`), which also serves /packages/.
// Globals: `Callmetry` (core's browser build) and `JsSIP` (./dist/jssip.js). The adapter's ESM
// build imports only `attachAdapter` from @callmetry/core, which index.html's import map points at
// core's ESM build.
import { attachJsSip } from '/packages/jssip/dist/index.mjs';

const params = new URLSearchParams(location.search);
const $ = (id) => document.getElementById(id);
const log = (...parts) => {
  $('log').textContent += `${new Date().toISOString().slice(11, 23)} ${parts.map((p) => (typeof p === 'string' ? p : JSON.stringify(p))).join(' ')}\n`;
  $('log').scrollTop = $('log').scrollHeight;
};
for (const id of ['ws', 'domain', 'user', 'password', 'target', 'appID', 'appSecret']) {
  if (params.has(id)) $(id).value = params.get(id);
}
$('autoanswer').checked = params.get('autoanswer') === '1';
// `?collector=none`: monitor locally only (callbacks work, nothing is sent).
const COLLECTOR = params.get('collector') ?? location.origin;
const MEDIA = { audio: true, video: true };
const PC_CONFIG = { iceServers: params.has('stun') ? [{ urls: params.get('stun') }] : [] };

let ua;
let monitor;
let detach = () => {};
let session; // the current call
let muted = { audio: false, video: false };

function setButtons() {
  const registered = !!ua;
  const s = session;
  const live = !!s && !s.isEnded();
  const established = live && s.isEstablished();
  const ringingIn = live && s.direction === 'incoming' && !established && !s.connection;
  $('connect').disabled = registered;
  $('stop').disabled = !registered;
  $('call').disabled = !registered || live;
  $('answer').disabled = !ringingIn;
  $('reject').disabled = !ringingIn;
  $('hangup').disabled = !live;
  $('hold').disabled = !established;
  $('hold').textContent = established && s.isOnHold().local ? 'Unhold' : 'Hold';
  $('mute-audio').disabled = !established;
  $('mute-audio').textContent = muted.audio ? 'Unmute mic' : 'Mute mic';
  $('mute-video').disabled = !established;
  $('mute-video').textContent = muted.video ? 'Start camera' : 'Stop camera';
}

function showMedia(pc) {
  pc.addEventListener('track', (e) => {
    const el = document.createElement(e.track.kind === 'video' ? 'video' : 'audio');
    el.autoplay = true;
    el.playsInline = true;
    el.srcObject = e.streams[0] ?? new MediaStream([e.track]);
    $('media').appendChild(el);
  });
}

function follow(s) {
  session = s;
  muted = { audio: false, video: false };
  const who = s.remote_identity?.uri?.toString() ?? '?';
  log(`${s.direction} call ${s.direction === 'incoming' ? 'from' : 'to'} ${who}`);
  s.on('peerconnection', (e) => showMedia(e.peerconnection));
  for (const ev of ['progress', 'accepted', 'confirmed', 'hold', 'unhold', 'muted', 'unmuted']) {
    s.on(ev, (e) => {
      log('sip', ev, e?.originator ?? '', e?.response?.status_code ?? '');
      setButtons();
    });
  }
  for (const ev of ['ended', 'failed']) {
    s.on(ev, (e) => {
      log('sip', ev, { originator: e.originator, cause: e.cause, status: e.message?.status_code });
      $('media').replaceChildren();
      setButtons();
    });
  }
  setButtons();
}

$('register').addEventListener('submit', (e) => {
  e.preventDefault();
  const user = $('user').value.trim();
  const domain = $('domain').value.trim();
  try {
    monitor = Callmetry.createMonitor({
      appID: $('appID').value,
      localUserID: user,
      ...(COLLECTOR !== 'none' ? { collectorURL: COLLECTOR, appSecret: $('appSecret').value } : {}),
    });
    monitor.on('fabricEvent', (r) => log('event', r.event, r.data ?? ''));
    monitor.on('error', (r) => log('error', r.webRTCFunction, r.message));
    monitor.on('stats', (s) => log('stats', s.mediaStreamTracks.map((t) => `${t.statsType} ${t.mediaType} ${t.userID} ${Math.round(t.bitrate ?? 0)} kbps`)));
    monitor.on('transport', (t) => log('collector', t.state, t.message ?? ''));

    JsSIP.debug.disable();
    ua = new JsSIP.UA({
      sockets: [new JsSIP.WebSocketInterface($('ws').value.trim())],
      uri: `sip:${user}@${domain}`,
      display_name: user,
      ...($('password').value ? { password: $('password').value } : {}),
      register: true,
    });

    // The one line: every RTCSession, outgoing and incoming, is monitored from now on.
    detach = attachJsSip(ua, monitor);

    ua.on('registered', () => {
      $('status').textContent = `registered as sip:${user}@${domain}`;
      log('registered');
    });
    ua.on('registrationFailed', (ev) => {
      $('status').textContent = `registration failed: ${ev.cause}`;
      log('registration failed', ev.cause);
    });
    ua.on('disconnected', () => log('SIP WebSocket disconnected'));
    ua.on('newRTCSession', ({ originator, session: s, request }) => {
      log(`Call-ID ${request.call_id}: the conference of this call`);
      if (originator === 'local') return; // followed in call()
      if (session && !session.isEnded()) {
        s.terminate({ status_code: 486 }); // one call at a time
        return;
      }
      follow(s);
      if ($('autoanswer').checked) s.answer({ mediaConstraints: MEDIA, pcConfig: PC_CONFIG });
    });
    ua.start();
    setButtons();
  } catch (err) {
    log('could not start:', String(err));
  }
});

$('stop').addEventListener('click', () => {
  // ua.stop() ends the calls; the adapter then detaches itself (detach() would too).
  ua?.stop();
  ua = undefined;
  void monitor?.close();
  $('status').textContent = 'not registered';
  setButtons();
});

$('dial').addEventListener('submit', (e) => {
  e.preventDefault();
  const target = $('target').value.trim();
  const s = ua.call(target.includes('@') ? `sip:${target}` : `sip:${target}@${$('domain').value.trim()}`, {
    mediaConstraints: MEDIA,
    pcConfig: PC_CONFIG,
    // JsSIP fires an outgoing call's 'peerconnection' inside ua.call(): only these handlers see it.
    eventHandlers: { peerconnection: (ev) => showMedia(ev.peerconnection) },
  });
  follow(s);
});
$('answer').addEventListener('click', () => session?.answer({ mediaConstraints: MEDIA, pcConfig: PC_CONFIG }));
$('reject').addEventListener('click', () => session?.terminate({ status_code: 486 }));
$('hangup').addEventListener('click', () => session?.terminate());
$('hold').addEventListener('click', () => (session.isOnHold().local ? session.unhold() : session.hold()));
$('mute-audio').addEventListener('click', () => {
  muted.audio = !muted.audio;
  if (muted.audio) session.mute({ audio: true });
  else session.unmute({ audio: true });
});
$('mute-video').addEventListener('click', () => {
  muted.video = !muted.video;
  if (muted.video) session.mute({ video: true });
  else session.unmute({ video: true });
});
window.addEventListener('beforeunload', () => detach());
setButtons();

// Callmetry + Twilio Video example. Served at /examples/twilio/ by the collector
// (`npm start`, i.e. `callmetry-collector --serve-examples`), which also serves /packages/.
// The adapter's ESM build imports only @callmetry/core, resolved by the import map in index.html.
import { attachTwilio, reportTwilioError } from '/packages/twilio/dist/index.mjs';

const params = new URLSearchParams(location.search);
const SDK_URL = params.get('sdk') ?? 'https://sdk.twilio.com/js/video/releases/2.32.1/twilio-video.min.js';
// `?collector=none`: monitor locally only (callbacks work, nothing is sent).
const COLLECTOR = params.get('collector') ?? location.origin;
const $ = (id) => document.getElementById(id);
const log = (...parts) => {
  $('log').textContent += `${new Date().toISOString().slice(11, 23)} ${parts.map((p) => (typeof p === 'string' ? p : JSON.stringify(p))).join(' ')}\n`;
  $('log').scrollTop = $('log').scrollHeight;
};

function loadScript(src) {
  return new Promise((ok, ko) => {
    const s = Object.assign(document.createElement('script'), { src, onload: ok, onerror: () => ko(new Error(`could not load ${src}`)) });
    document.head.appendChild(s);
  });
}

let room;
let monitor;
let detach = () => {};

$('join').addEventListener('submit', async (e) => {
  e.preventDefault();
  $('connect').disabled = true;
  const roomName = $('room').value.trim();
  try {
    if (!window.Twilio?.Video) await loadScript(SDK_URL);
    const Video = window.Twilio.Video;
    monitor = Callmetry.createMonitor({
      appID: $('appID').value,
      localUserID: $('user').value.trim(),
      ...(COLLECTOR !== 'none' ? { collectorURL: COLLECTOR, appSecret: $('appSecret').value } : {}),
    });
    monitor.on('fabricEvent', (r) => log('event', r.event, r.data ?? ''));
    monitor.on('error', (r) => log('error', r.webRTCFunction, r.message));
    monitor.on('stats', (s) => log('stats', s.mediaStreamTracks.map((t) => `${t.statsType} ${t.mediaType} ${t.userID} ${Math.round(t.bitrate ?? 0)} kbps`)));

    let tracks;
    try {
      tracks = await Video.createLocalTracks({ audio: true, video: { width: 640 } });
    } catch (err) {
      reportTwilioError(monitor, roomName, err); // getUserMedia failure
      throw err;
    }
    const wsServer = $('wsServer').value.trim();
    try {
      room = await Video.connect($('token').value.trim(), { name: roomName, tracks, ...(wsServer ? { wsServer, insights: false } : {}) });
    } catch (err) {
      reportTwilioError(monitor, roomName, err); // e.g. 20104 access token expired -> signalingError
      throw err;
    }
    log(`joined Room ${room.name} (${room.sid}) as ${room.localParticipant.identity}`);

    // The one line: the Room's peer connections become fabrics, tracks are attributed to identities.
    detach = attachTwilio(room, monitor, { twilioVersion: Video.version });

    room.on('trackSubscribed', (track) => track.kind !== 'data' && $('media').appendChild(track.attach()));
    room.on('disconnected', (_r, err) => {
      log('left the Room', err ? `${err.code} ${err.message}` : '');
      $('leave').disabled = true;
      $('connect').disabled = false;
      for (const t of tracks) t.stop();
    });
    $('leave').disabled = false;
  } catch (err) {
    log('failed:', String(err?.message ?? err));
    $('connect').disabled = false;
  }
});

// For poking around in the console.
window.callmetryExample = { get room() { return room; }, get monitor() { return monitor; } };

$('leave').addEventListener('click', async () => {
  detach(); // stops monitoring (the adapter also detaches by itself when the Room disconnects)
  room?.disconnect();
  await monitor?.close();
});

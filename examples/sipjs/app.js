// Callmetry + SIP.js softphone. Served at /examples/sipjs/ by the collector (`npm start`, i.e.
// `callmetry-collector --serve-examples`), which also serves /packages/. Globals: `Callmetry`
// (core's browser build) and `SIP` (./dist/sip.js, built by `npm run build`). The adapter's ESM
// build imports only '@callmetry/core', which the page's import map resolves to the global.
import { attachSipJs } from '/packages/sipjs/dist/index.mjs';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const log = (...parts) => {
  const line = parts.map((p) => (typeof p === 'string' ? p : JSON.stringify(p))).join(' ');
  $('log').textContent += `${new Date().toISOString().slice(11, 23)} ${line}\n`;
  $('log').scrollTop = $('log').scrollHeight;
};
const status = (text) => ($('status').textContent = text);

// Fields from the query string (handy for two tabs, and for the example's test).
for (const [param, id] of [['ws', 'ws'], ['domain', 'domain'], ['user', 'user'], ['password', 'password'], ['target', 'target'], ['appID', 'appID'], ['appSecret', 'appSecret']]) {
  if (params.has(param)) $(id).value = params.get(param);
}
if (params.get('autoanswer') === '1') $('autoanswer').checked = true;

let simpleUser;
let monitor;
let detach = () => {};
let inCall = false;
let ringing = false;
const conferences = new Set();

function buttons() {
  const registered = !!simpleUser;
  $('call').disabled = !registered || inCall || ringing;
  $('answer').disabled = !ringing;
  $('decline').disabled = !ringing;
  $('hold').disabled = !inCall;
  $('mute').disabled = !inCall;
  $('hangup').disabled = !inCall && !ringing;
  $('hold').textContent = simpleUser?.isHeld() ? 'Unhold' : 'Hold';
  $('mute').textContent = simpleUser?.isMuted() ? 'Unmute' : 'Mute';
}

/** `?ice=none`: no ICE servers (LAN / loopback); `?ice=stun:host:port,...`: those; else SIP.js's default STUN server. */
function peerConnectionConfiguration() {
  const ice = params.get('ice');
  if (ice === null) return undefined;
  return { iceServers: ice === 'none' ? [] : ice.split(',').map((urls) => ({ urls })) };
}

$('setup').addEventListener('submit', async (e) => {
  e.preventDefault();
  $('connect').disabled = true;
  const user = $('user').value.trim();
  const domain = $('domain').value.trim();
  const password = $('password').value;
  try {
    monitor = Callmetry.createMonitor({
      appID: $('appID').value,
      appSecret: $('appSecret').value,
      localUserID: user,
      collectorURL: location.origin,
    });
    monitor.on('transport', (s) => log(`collector ${s.state}${s.message ? `: ${s.message}` : ''}`));
    monitor.on('fabricEvent', (r) => {
      if (!conferences.has(r.conferenceID)) {
        conferences.add(r.conferenceID);
        log(`Call-ID ${r.conferenceID}: the conference of this call`);
      }
      log(`event ${r.event}${r.data ? ` ${JSON.stringify(r.data)}` : ''}`);
    });
    monitor.on('error', (r) => log(`error ${r.webRTCFunction} (${r.category}): ${r.message}`));
    monitor.on('stats', (s) =>
      log('stats', s.mediaStreamTracks.map((t) => `${t.statsType} ${t.mediaType} ${t.userID} ${Math.round(t.bitrate ?? 0)} kbps`).join(', ')),
    );

    const pcConfig = peerConnectionConfiguration();
    simpleUser = new SIP.Web.SimpleUser($('ws').value.trim(), {
      aor: `sip:${user}@${domain}`,
      media: {
        constraints: { audio: true, video: true },
        local: { video: $('localVideo') },
        remote: { video: $('remoteVideo'), audio: $('remoteAudio') },
      },
      userAgentOptions: {
        displayName: user,
        logLevel: 'warn',
        ...(password ? { authorizationUsername: user, authorizationPassword: password } : {}),
        sessionDescriptionHandlerFactoryOptions: { ...(pcConfig ? { peerConnectionConfiguration: pcConfig } : {}), iceGatheringTimeout: 2000 },
      },
      delegate: {
        onCallReceived: () => {
          ringing = true;
          log('incoming call');
          buttons();
          if ($('autoanswer').checked) $('answer').click();
        },
        onCallAnswered: () => {
          ringing = false;
          inCall = true;
          log('call answered');
          buttons();
        },
        onCallHangup: () => {
          ringing = false;
          inCall = false;
          log('call ended');
          buttons();
        },
        onCallHold: (held) => {
          log(held ? 'on hold' : 'resumed');
          buttons();
        },
        onServerDisconnect: (error) => log('SIP server disconnected', error ? String(error.message ?? error) : ''),
      },
    });

    // The one line: every call of this SimpleUser's UserAgent is monitored from now on.
    detach = attachSipJs(simpleUser, monitor);

    await simpleUser.connect();
    await simpleUser.register({
      requestDelegate: { onReject: (r) => log(`REGISTER rejected: ${r.message.statusCode} ${r.message.reasonPhrase}`) },
    });
    status(`registered as sip:${user}@${domain}`);
    buttons();
  } catch (err) {
    log('failed:', String(err?.message ?? err));
    status('not registered');
    $('connect').disabled = false;
  }
});

$('call').addEventListener('click', () => {
  const target = $('target').value.trim();
  const destination = target.startsWith('sip:') ? target : `sip:${target}@${$('domain').value.trim()}`;
  log(`outgoing call to ${destination}`);
  inCall = true;
  buttons();
  simpleUser.call(destination).catch((err) => {
    log('call failed:', String(err?.message ?? err));
    inCall = false;
    buttons();
  });
});
$('answer').addEventListener('click', () => simpleUser.answer().catch((err) => log('answer failed:', String(err?.message ?? err))));
$('decline').addEventListener('click', () => simpleUser.decline().catch((err) => log('decline failed:', String(err?.message ?? err))));
$('hold').addEventListener('click', () => {
  const held = simpleUser.isHeld();
  (held ? simpleUser.unhold() : simpleUser.hold()).catch((err) => log('hold failed:', String(err?.message ?? err)));
});
$('mute').addEventListener('click', () => {
  if (simpleUser.isMuted()) simpleUser.unmute();
  else simpleUser.mute();
  log(simpleUser.isMuted() ? 'muted' : 'unmuted');
  buttons();
});
$('hangup').addEventListener('click', () => {
  const done = ringing ? simpleUser.decline() : simpleUser.hangup();
  done.catch((err) => log('hang up failed:', String(err?.message ?? err)));
});

addEventListener('pagehide', () => {
  detach(); // the adapter also detaches by itself when the UserAgent stops
  void monitor?.close();
});

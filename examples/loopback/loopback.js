// A page written for callstats.js; only configParams.collectorURL is new.
/* global callstats */
var callstats = new callstats();
var conferenceID = 'loopback-' + Math.random().toString(36).slice(2, 8);
var params = new URLSearchParams(location.search);
var appID = params.get('app') || 'demo-app';
var appSecret = params.get('secret') || 'demo-secret';
var pc1, pc2, stream, muted = false, held = false;

function log(line) {
  document.getElementById('log').textContent += new Date().toISOString().slice(11, 19) + ' ' + line + '\n';
}
document.getElementById('conf').textContent = conferenceID;

callstats.initialize(appID, appSecret, 'alice', function (status, message) {
  log('csInitCallback: ' + status + ' ' + message);
}, function (stats) {
  document.getElementById('stats').textContent = JSON.stringify(stats, null, 2);
}, { collectorURL: location.origin });

document.getElementById('start').onclick = async function () {
  this.disabled = true;
  stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
  document.getElementById('local').srcObject = stream;
  pc1 = new RTCPeerConnection();
  pc2 = new RTCPeerConnection();
  callstats.addNewFabric(pc1, 'bob', callstats.fabricUsage.multiplex, conferenceID);
  stream.getTracks().forEach(function (t) { pc1.addTrack(t, stream); });
  pc2.ontrack = function (e) { document.getElementById('remote').srcObject = e.streams[0]; };
  pc1.onicecandidate = function (e) { if (e.candidate) pc2.addIceCandidate(e.candidate); };
  pc2.onicecandidate = function (e) { if (e.candidate) pc1.addIceCandidate(e.candidate); };
  try {
    var offer = await pc1.createOffer();
    await pc1.setLocalDescription(offer);
    await pc2.setRemoteDescription(offer);
    var answer = await pc2.createAnswer();
    await pc2.setLocalDescription(answer);
    await pc1.setRemoteDescription(answer);
  } catch (err) {
    callstats.reportError(pc1, conferenceID, callstats.webRTCFunctions.createOffer, err);
  }
  ['mute', 'hold', 'hangup'].forEach(function (id) { document.getElementById(id).disabled = false; });
  log('call started');
};

document.getElementById('mute').onclick = function () {
  muted = !muted;
  stream.getAudioTracks().forEach(function (t) { t.enabled = !muted; });
  callstats.sendFabricEvent(pc1, muted ? callstats.fabricEvent.audioMute : callstats.fabricEvent.audioUnmute, conferenceID);
  this.textContent = muted ? 'Unmute' : 'Mute';
};

document.getElementById('hold').onclick = function () {
  held = !held;
  callstats.sendFabricEvent(pc1, held ? callstats.fabricEvent.fabricHold : callstats.fabricEvent.fabricResume, conferenceID);
  this.textContent = held ? 'Resume' : 'Hold';
};

document.getElementById('hangup').onclick = function () {
  callstats.sendFabricEvent(pc1, callstats.fabricEvent.fabricTerminated, conferenceID);
  pc1.close();
  pc2.close();
  stream.getTracks().forEach(function (t) { t.stop(); });
  ['mute', 'hold', 'hangup'].forEach(function (id) { document.getElementById(id).disabled = true; });
  callstats.sendUserFeedback(conferenceID, { overall: 5, comment: 'loopback demo' });
  log('call ended: see the dashboard');
};

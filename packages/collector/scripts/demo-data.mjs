// Seeds a running collector with realistic demo conferences through the real token + ingest
// endpoints (signed token requests, delta-coded stats). Used for screenshots and demos:
//   node packages/collector/scripts/demo-data.mjs http://127.0.0.1:8080 demo-app demo-secret
import { createHmac, randomBytes } from 'node:crypto';

const rid = () => randomBytes(12).toString('hex');

async function token(base, appID, secret, userID) {
  const ts = Date.now();
  const nonce = rid();
  const signature = createHmac('sha256', secret).update(`${appID}\n${userID}\n${ts}\n${nonce}`).digest('hex');
  const res = await fetch(`${base}/v1/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ appID, userID, ts, nonce, signature }),
  });
  if (!res.ok) throw new Error(`token: ${res.status} ${await res.text()}`);
  return (await res.json()).token;
}

/** One client session: numbers items, delta-codes stats per (fabricID, key), sends batches over HTTP. */
class Session {
  constructor(base, tok) {
    this.base = base;
    this.token = tok;
    this.sid = rid();
    this.n = 0;
    this.items = [];
    this.prev = new Map();
  }
  add(item) {
    this.items.push({ n: ++this.n, ...item });
  }
  stats(t, conferenceID, fabricID, streams, connection) {
    const coded = streams.map((s) => {
      const id = `${fabricID}\u0000${s.key}`;
      const prev = this.prev.get(id) || {};
      const delta = { key: s.key };
      for (const [k, v] of Object.entries(s)) if (k !== 'key' && prev[k] !== v) delta[k] = v;
      for (const k of Object.keys(prev)) if (!(k in s)) delta[k] = null;
      this.prev.set(id, s);
      return delta;
    });
    this.add({ t, kind: 'stats', conferenceID, fabricID, streams: coded, ...(connection ? { connection } : {}) });
  }
  async flush() {
    while (this.items.length) {
      const items = this.items.splice(0, 400);
      const res = await fetch(`${this.base}/v1/ingest`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${this.token}` },
        body: JSON.stringify({ sid: this.sid, items }),
      });
      if (!res.ok) throw new Error(`ingest: ${res.status} ${await res.text()}`);
    }
  }
}

function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const quality = (loss, rtt) => (loss > 0.15 || rtt > 500 ? 'bad' : loss > 0.06 || rtt > 300 ? 'poor' : loss > 0.03 ? 'fair' : loss > 0.01 ? 'good' : 'excellent');

export async function seedDemo(base, appID, secret, now = Date.now()) {
  const r = rng(42);
  const conf = 'weekly-standup';
  const start = now - 6 * 60 * 1000;
  const dur = 5 * 60 * 1000;
  const users = ['alice', 'bob', 'carol'];
  const sessions = {};
  for (const u of users) sessions[u] = new Session(base, await token(base, appID, secret, u));
  const fabrics = [
    { user: 'alice', id: 'pc-alice-bob', remote: 'bob', ssrc: [1001, 1002, 2001, 2002] },
    { user: 'alice', id: 'pc-alice-carol', remote: 'carol', ssrc: [1101, 1102, 3001, 3002] },
    { user: 'bob', id: 'pc-bob-alice', remote: 'alice', ssrc: [2001, 2002, 1001, 1002] },
  ];
  const disruptFrom = start + 150_000;
  const disruptTo = start + 170_000;
  for (const f of fabrics) {
    const s = sessions[f.user];
    s.add({ t: start + 400, kind: 'fabric', conferenceID: conf, fabricID: f.id, localUserID: f.user, remoteUserID: f.remote, fabricUsage: 'multiplex', remoteEndpointType: 'peer', direction: 'sendrecv' });
    const setupDelay = 250 + Math.round(r() * 500);
    s.add({ t: start + 400 + setupDelay, kind: 'event', conferenceID: conf, fabricID: f.id, event: 'fabricSetup', data: { setupDelay, gatheringDelay: Math.round(setupDelay * 0.4), connectivityDelay: Math.round(setupDelay * 0.6) } });
  }
  const ev = (user, fabricID, t, event, data) => sessions[user].add({ t, kind: 'event', conferenceID: conf, fabricID, event, ...(data ? { data } : {}) });
  for (let t = start + 5000; t <= start + dur; t += 5000) {
    for (const f of fabrics) {
      if (f.id === 'pc-alice-carol' && t > start + 240_000) continue;
      const disrupted = f.id === 'pc-alice-carol' && t >= disruptFrom && t <= disruptTo;
      const onHold = f.id === 'pc-bob-alice' && t >= start + 200_000 && t <= start + 220_000;
      const baseRtt = f.id === 'pc-alice-carol' ? 85 : 40;
      const rtt = Math.round(baseRtt + r() * 20 + (disrupted ? 400 + r() * 200 : 0));
      const loss = Math.round((disrupted ? 0.12 + r() * 0.12 : r() < 0.15 ? r() * 0.03 : r() * 0.004) * 1000) / 1000;
      const jitter = Math.round((disrupted ? 35 + r() * 20 : 3 + r() * 5) * 10) / 10;
      const q = quality(loss, rtt);
      const [outA, outV, inA, inV] = f.ssrc;
      const vbr = onHold ? 0 : Math.round((disrupted ? 350 : 1200) + r() * 300);
      const streams = [
        { key: `outbound-rtp:${outA}`, ssrc: String(outA), statsType: 'outbound-rtp', mediaType: 'audio', userID: f.user, bitrate: onHold ? 0 : Math.round(34 + r() * 8), rtt, fractionLoss: loss, quality: q },
        { key: `inbound-rtp:${inV}`, ssrc: String(inV), statsType: 'inbound-rtp', mediaType: 'video', userID: f.remote, bitrate: vbr, fractionLoss: loss, jitter, frameRate: onHold ? 0 : 30, quality: q },
      ];
      if (f.id === 'pc-alice-bob') streams.push({ key: `inbound-rtp:${inA}`, ssrc: String(inA), statsType: 'inbound-rtp', mediaType: 'audio', userID: f.remote, bitrate: Math.round(30 + r() * 10), fractionLoss: loss, jitter, quality: q });
      void outV;
      sessions[f.user].stats(t, conf, f.id, streams, { rtt, protocol: 'udp', localCandidateType: 'host', remoteCandidateType: f.id === 'pc-alice-carol' ? 'relay' : 'srflx' });
    }
  }
  ev('alice', 'pc-alice-bob', start + 60_000, 'audioMute');
  ev('alice', 'pc-alice-bob', start + 90_000, 'audioUnmute');
  ev('alice', 'pc-alice-carol', disruptFrom, 'connectionDisruptionStart');
  sessions.alice.add({ t: disruptFrom + 8000, kind: 'error', conferenceID: conf, fabricID: 'pc-alice-carol', fn: 'iceConnectionFailure', category: 'iceFailureAfterSetup', name: 'IceDisconnected', message: 'ICE connection state became disconnected; restarting ICE' });
  ev('alice', 'pc-alice-carol', disruptTo, 'connectionDisruptionEnd');
  ev('bob', 'pc-bob-alice', start + 200_000, 'fabricHold');
  ev('bob', 'pc-bob-alice', start + 220_000, 'fabricResume');
  ev('alice', 'pc-alice-carol', start + 240_000, 'fabricTerminated');
  ev('alice', 'pc-alice-bob', start + dur, 'fabricTerminated');
  ev('bob', 'pc-bob-alice', start + dur, 'fabricTerminated');
  sessions.alice.add({ t: start + dur + 2000, kind: 'feedback', conferenceID: conf, userID: 'alice', rating: { overall: 4, audio: 4, video: 3 }, comment: 'Carol dropped out for a bit, otherwise fine' });
  sessions.bob.add({ t: start + dur + 3000, kind: 'feedback', conferenceID: conf, userID: 'bob', rating: { overall: 5 } });
  sessions.carol.add({ t: start + 1000, kind: 'custom', conferenceID: conf, name: 'joinedFromMobile', data: { os: 'Android' } });

  // A call that never connected, and one still going on.
  const failed = sessions.carol;
  failed.add({ t: now - 20 * 60 * 1000, kind: 'fabric', conferenceID: 'support-ticket-4711', fabricID: 'pc-1', localUserID: 'carol', remoteUserID: 'agent-7', fabricUsage: 'audio', remoteEndpointType: 'server', direction: 'sendrecv' });
  failed.add({ t: now - 20 * 60 * 1000 + 300, kind: 'error', conferenceID: 'support-ticket-4711', fabricID: 'pc-1', fn: 'setRemoteDescription', category: 'negotiationFailure', name: 'InvalidAccessError', message: 'Failed to set remote answer sdp: Called in wrong state: stable' });
  failed.add({ t: now - 20 * 60 * 1000 + 400, kind: 'event', conferenceID: 'support-ticket-4711', fabricID: 'pc-1', event: 'fabricSetupFailed' });
  const live = new Session(base, await token(base, appID, secret, 'dave'));
  live.add({ t: now - 40_000, kind: 'fabric', conferenceID: 'all-hands', fabricID: 'sfu-up', localUserID: 'dave', remoteUserID: 'sfu', fabricUsage: 'multiplex', remoteEndpointType: 'server', direction: 'sendonly' });
  live.add({ t: now - 39_500, kind: 'event', conferenceID: 'all-hands', fabricID: 'sfu-up', event: 'fabricSetup', data: { setupDelay: 480 } });
  for (let t = now - 35_000; t <= now; t += 5000) {
    live.stats(t, 'all-hands', 'sfu-up', [{ key: 'outbound-rtp:77', ssrc: '77', statsType: 'outbound-rtp', mediaType: 'video', userID: 'dave', bitrate: Math.round(1800 + r() * 400), rtt: 30, fractionLoss: 0, quality: 'excellent' }]);
  }
  for (const s of [...Object.values(sessions), live]) await s.flush();
  return { conferenceID: conf };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [base = 'http://127.0.0.1:8080', appID = 'demo-app', secret = 'demo-secret'] = process.argv.slice(2);
  seedDemo(base.replace(/\/$/, ''), appID, secret).then(
    (r) => console.log(`seeded ${r.conferenceID} and two more conferences`),
    (e) => {
      console.error(e);
      process.exitCode = 1;
    },
  );
}

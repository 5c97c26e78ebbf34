// A local STAND-IN for Twilio Video's signaling server, for tests only. Twilio's cloud cannot be
// reached from the test network namespace, so the real twilio-video SDK (pinned to 2.32.1: this
// speaks its private, undocumented protocol) is pointed at this server with
// `Video.connect(token, {wsServer: standIn.url, ...})`. The media side is a real RTCPeerConnection
// in another Chromium page (./sfu.page.ts) that sends a real audio and video track on behalf of
// one remote participant.
//
// Protocol as read from twilio-video 2.32.1 (lib/twilioconnection.js,
// lib/signaling/v2/twilioconnectiontransport.js, lib/signaling/v2/room.js, peerconnection.js):
//  TCMP framing (twilioconnection.js), JSON over one WebSocket:
//    client -> {type:'hello', id, timeout, version:2, body?}   server -> {type:'welcome', negotiatedTimeout}
//    both   -> {type:'heartbeat'} (any 'msg' counts as one; the client gives up after 3 missed)
//    client -> {type:'msg', body}                               server -> {type:'msg', body}
//    client -> {type:'bye'} then closes with 1000; a close with any other code makes the client
//    reconnect (Room 'reconnecting') with a new socket whose hello body is a 'sync'.
//  RSP v2 bodies (twilioconnectiontransport.js):
//    client 'ice' {token}                        -> server 'iced' {ice_servers}
//    client 'connect' {name, participant {revision, tracks[{id,kind,name,enabled,priority}]},
//      peer_connections [{id, description {type:'offer', sdp, revision}}], token, ...}
//                                                -> server 'connected' {session, sid, name,
//      participant {sid, identity}, participants [{sid, identity, revision, state,
//      tracks [{sid, name, kind, enabled, priority}]}], peer_connections [{id, description
//      {type:'answer', sdp, revision}}], published {revision, tracks [{id, sid, state:'ready'}]},
//      subscribed {revision, tracks [{sid, id: <msid track id in our SDP>}]}, options
//      {session_timeout, media_region}, media_signaling {active_speaker {transport
//      {type:'data-channel', label}}}}
//    client 'update' {participant?, peer_connections? [{id, description?|ice? {candidates,
//      ufrag, revision, complete?}}]}           <-> server 'update' (participants, published,
//      subscribed, peer_connections with answers or offers of its own)
//    client 'sync' (hello body on reconnect)     -> server 'synced' (full state; peer connections
//      and participants missing from it are closed/disconnected by the client)
//    client 'disconnect'                         ; server 'disconnected' {status} or 'error' {code, message}
//  A remote track is subscribed when `subscribed` maps its SID to the track id that the client's
//  TrackMatcher reads from the `a=msid` line of our SDP (the sender's MediaStreamTrack id).
//  `active_speaker` messages ({type:'active_speaker', participant: <sid>}) come over a data channel
//  with that label, opened by the media side (our own offer: the client's first offer has no
//  m=application section unless it publishes a data track).
import { randomBytes } from 'node:crypto';
import { WebSocketServer, type WebSocket } from 'ws';
import type { HttpServer, TestPage } from '../../../../test/harness/browser';
import type { SfuTrack } from './sfu.page';

type Json = Record<string, any>;

export interface StandInOptions {
  /** The HTTP server to attach the WebSocket endpoint to. */
  http: HttpServer;
  /** The page running ./sfu.page.ts (the media side). */
  sfu: TestPage;
  /** Path of the endpoint; default /twilio-signaling. */
  path?: string;
  /** The remote participant the media side plays. */
  remoteIdentity: string;
  /** Used when the token is not a JWT with grants.identity. */
  defaultIdentity?: string;
  /** Log every message to stderr. */
  verbose?: boolean;
}

export interface RemoteTrackState {
  sid: string;
  id: string;
  kind: 'audio' | 'video';
  name: string;
  enabled: boolean;
}

const sid = (prefix: string): string => prefix + randomBytes(16).toString('hex');

/** Identity from a Twilio-style access token (a JWT; the stand-in never checks the signature). */
function identityFromToken(token: unknown): string | undefined {
  if (typeof token !== 'string') return undefined;
  const part = token.split('.')[1];
  if (!part) return undefined;
  try {
    const payload = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Json;
    const identity = payload.grants?.identity;
    return typeof identity === 'string' ? identity : undefined;
  } catch {
    return undefined;
  }
}

/** A fake access token shaped like Twilio's (header.payload.signature), carrying the identity. */
export function fakeAccessToken(identity: string, room: string): string {
  const b64 = (o: Json): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${b64({ alg: 'HS256', typ: 'JWT', cty: 'twilio-fpa;v=1' })}.${b64({
    jti: sid('SK'),
    iss: sid('SK'),
    sub: sid('AC'),
    exp: Math.floor(Date.now() / 1000) + 3600,
    grants: { identity, video: { room } },
  })}.stand-in-signature`;
}

interface RoomSession {
  roomSid: string;
  roomName: string;
  session: string;
  localSid: string;
  identity: string;
  pcId?: string;
  /** Revision of the client's last offer (our answer must carry it) or of our own last offer. */
  descriptionRevision: number;
  lastClientOffer: number;
  /** We offered (media side) and wait for the client's answer. */
  awaitingAnswer: boolean;
  published: Map<string, string>; // client track id -> track SID
  publishedRevision: number;
  subscribedRevision: number;
  remoteRevision: number;
  remoteConnected: boolean;
  activeSpeakerOffered: boolean;
}

export class TwilioStandIn {
  readonly url: string;
  readonly remoteSid = sid('PA');
  remoteTracks: RemoteTrackState[] = [];
  /** Every RSP body received from the client, in order (for assertions and debugging). */
  readonly received: Json[] = [];
  /** Sockets opened so far (a reconnect opens a new one). */
  connections = 0;
  room: RoomSession | undefined;

  private readonly wss: WebSocketServer;
  private ws: WebSocket | undefined;
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  private queue: Promise<void> = Promise.resolve();
  private waiters: Array<{ test: () => boolean; ok: () => void }> = [];

  constructor(private readonly options: StandInOptions) {
    const path = options.path ?? '/twilio-signaling';
    this.url = `ws://127.0.0.1:${options.http.port}${path}`;
    this.wss = new WebSocketServer({ server: options.http.server, path });
    this.wss.on('connection', (ws) => this.onConnection(ws));
  }

  /** Prepares the media side; call before the client connects. */
  async start(): Promise<void> {
    const tracks = await this.options.sfu.run(() => window.sfu.start());
    this.remoteTracks = tracks.map((t: SfuTrack) => ({ sid: sid('MT'), id: t.id, kind: t.kind, name: `${t.kind}-of-remote`, enabled: true }));
  }

  get sfu(): TestPage {
    return this.options.sfu;
  }

  /** Resolves when `test()` holds (checked after every message handled). */
  waitFor(test: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
    if (test()) return Promise.resolve();
    return new Promise((ok, ko) => {
      const timer = setTimeout(() => ko(new Error(`stand-in: timed out waiting for ${what}`)), timeoutMs);
      this.waiters.push({
        test,
        ok: () => {
          clearTimeout(timer);
          ok();
        },
      });
    });
  }

  // ---- control (what Twilio's cloud would do) -------------------------------------------------

  /** The remote participant enables/disables one of its tracks (Room 'trackEnabled'/'trackDisabled'). */
  setRemoteTrackEnabled(kind: 'audio' | 'video', enabled: boolean): void {
    for (const t of this.remoteTracks) if (t.kind === kind) t.enabled = enabled;
    if (!this.room) return;
    this.room.remoteRevision++;
    this.sendBody({ type: 'update', participants: [this.remoteParticipantState()] });
  }

  /** Opens the `active_speaker` data channel with an offer from the media side. */
  async offerActiveSpeakerChannel(): Promise<void> {
    const room = this.requireRoom();
    await this.options.sfu.run(() => window.sfu.createChannel('active_speaker'));
    const sdp = await this.options.sfu.run(() => window.sfu.offer());
    room.descriptionRevision++;
    room.activeSpeakerOffered = true;
    room.awaitingAnswer = true;
    this.sendBody({
      type: 'update',
      peer_connections: [{ id: room.pcId, description: { type: 'offer', sdp, revision: room.descriptionRevision } }],
    });
  }

  /** Sends an `active_speaker` message (dominant speaker: the remote participant, or none). */
  async sendActiveSpeaker(participantSid: string | null): Promise<void> {
    await this.options.sfu.run(async () => {
      const until = Date.now() + 10_000;
      while (window.sfu.channelState('active_speaker') !== 'open' && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    });
    const sent = await this.options.sfu.run(
      (p: string | null) => window.sfu.send('active_speaker', { type: 'active_speaker', participant: p }),
      participantSid,
    );
    if (!sent) throw new Error('stand-in: active_speaker channel is not open');
  }

  /** Drops the signaling socket abnormally (code 4000): the client reconnects and syncs. */
  dropConnection(): void {
    this.ws?.close(4000, 'stand-in: connection dropped');
  }

  /** Ends the Room with a Twilio error ({type:'error', code, message}). */
  sendError(code: number, message: string): void {
    this.sendBody({ type: 'error', code, message });
  }

  /** Ends the Room normally ('disconnected', status completed: RoomCompletedError 53118). */
  completeRoom(): void {
    this.sendBody({ type: 'disconnected', status: 'completed' });
  }

  async close(): Promise<void> {
    this.stopHeartbeat();
    for (const c of this.wss.clients) c.terminate();
    await new Promise<void>((ok) => this.wss.close(() => ok()));
  }

  // ---- protocol ------------------------------------------------------------------------------

  private log(direction: string, data: unknown): void {
    if (!this.options.verbose) return;
    const text = JSON.stringify(data);
    console.error(`[stand-in ${direction}] ${text.length > 600 ? `${text.slice(0, 600)}...` : text}`);
  }

  private onConnection(ws: WebSocket): void {
    this.connections++;
    this.ws = ws;
    ws.on('message', (data) => {
      let message: Json;
      try {
        message = JSON.parse(String(data)) as Json;
      } catch {
        return;
      }
      // Messages are handled one at a time, in order (answers take a round trip to the media page).
      this.queue = this.queue
        .then(() => this.onMessage(ws, message))
        .catch((e: unknown) => console.error('[stand-in] error handling a message:', e))
        .then(() => this.notify());
    });
    ws.on('close', () => {
      if (this.ws === ws) {
        this.ws = undefined;
        this.stopHeartbeat();
      }
    });
  }

  private notify(): void {
    this.waiters = this.waiters.filter((w) => {
      if (!w.test()) return true;
      w.ok();
      return false;
    });
  }

  private async onMessage(ws: WebSocket, message: Json): Promise<void> {
    if (message.type !== 'heartbeat') this.log('<-', message);
    switch (message.type) {
      case 'hello': {
        this.send(ws, { type: 'welcome', id: message.id, negotiatedTimeout: Number(message.timeout) || 5000 });
        this.startHeartbeat(ws);
        if (message.body) await this.onBody(message.body as Json);
        return;
      }
      case 'msg':
        await this.onBody(message.body as Json);
        return;
      default:
        return; // heartbeat, bye
    }
  }

  private async onBody(body: Json): Promise<void> {
    this.received.push(body);
    switch (body.type) {
      case 'ice':
        this.sendBody({ type: 'iced', ice_servers: [] });
        return;
      case 'connect':
        await this.onConnect(body);
        return;
      case 'sync':
        await this.onSync(body);
        return;
      case 'update':
        await this.onUpdate(body);
        return;
      case 'disconnect':
        this.stopHeartbeat();
        this.ws?.close(1000, 'bye');
        return;
      default:
        return;
    }
  }

  private async onConnect(body: Json): Promise<void> {
    const identity = identityFromToken(body.token) ?? this.options.defaultIdentity ?? 'local-participant';
    await this.options.sfu.run(() => window.sfu.reset());
    await this.start();
    const room: RoomSession = {
      roomSid: sid('RM'),
      roomName: typeof body.name === 'string' && body.name ? body.name : sid('RM'),
      session: sid('SS'),
      localSid: sid('PA'),
      identity,
      descriptionRevision: 0,
      lastClientOffer: 0,
      awaitingAnswer: false,
      published: new Map(),
      publishedRevision: 0,
      subscribedRevision: 1,
      remoteRevision: 1,
      remoteConnected: true,
      activeSpeakerOffered: false,
    };
    this.room = room;
    this.publish(body.participant as Json | undefined);
    const peerConnections = await this.handlePeerConnections((body.peer_connections ?? []) as Json[]);
    this.sendBody({
      type: 'connected',
      session: room.session,
      sid: room.roomSid,
      name: room.roomName,
      participant: { sid: room.localSid, identity, revision: 1, state: 'connected', tracks: [] },
      participants: [this.remoteParticipantState()],
      peer_connections: peerConnections,
      published: this.publishedState(),
      subscribed: this.subscribedState(),
      options: { session_timeout: 30, media_region: 'us1', signaling_region: 'us1' },
      media_signaling: { active_speaker: { transport: { type: 'data-channel', label: 'active_speaker' } } },
      recording: { enabled: false, revision: 1 },
    });
  }

  private async onSync(body: Json): Promise<void> {
    const room = this.requireRoom();
    this.publish(body.participant as Json | undefined);
    await this.handlePeerConnections((body.peer_connections ?? []) as Json[]);
    this.sendBody({
      type: 'synced',
      session: room.session,
      sid: room.roomSid,
      name: room.roomName,
      participant: { sid: room.localSid, identity: room.identity, revision: 1, state: 'connected', tracks: [] },
      participants: [this.remoteParticipantState()],
      // Listing the peer connection (without a description) keeps it: absent ones are closed.
      peer_connections: room.pcId ? [{ id: room.pcId }] : [],
      published: this.publishedState(),
      subscribed: this.subscribedState(),
      options: { session_timeout: 30, media_region: 'us1', signaling_region: 'us1' },
    });
  }

  private async onUpdate(body: Json): Promise<void> {
    const before = this.room?.publishedRevision ?? 0;
    const subscribedBefore = this.room?.subscribedRevision ?? 0;
    this.publish(body.participant as Json | undefined);
    const answers = await this.handlePeerConnections((body.peer_connections ?? []) as Json[]);
    const update: Json = { type: 'update' };
    if (answers.length) update.peer_connections = answers;
    if ((this.room?.publishedRevision ?? 0) > before) update.published = this.publishedState();
    if ((this.room?.subscribedRevision ?? 0) > subscribedBefore) update.subscribed = this.subscribedState();
    if (Object.keys(update).length > 1) this.sendBody(update);
  }

  /** Gives every newly published local track a SID (the client waits for it). */
  private publish(participant: Json | undefined): void {
    const room = this.room;
    if (!room || !participant || !Array.isArray(participant.tracks)) return;
    let changed = false;
    const ids = new Set<string>();
    for (const t of participant.tracks as Json[]) {
      if (typeof t.id !== 'string') continue;
      ids.add(t.id);
      if (!room.published.has(t.id)) {
        room.published.set(t.id, sid('MT'));
        changed = true;
      }
    }
    for (const id of [...room.published.keys()]) {
      if (!ids.has(id)) {
        room.published.delete(id);
        changed = true;
      }
    }
    if (changed) room.publishedRevision++;
  }

  /** Answers offers, applies answers to our own offers, forwards ICE candidates. */
  private async handlePeerConnections(states: Json[]): Promise<Json[]> {
    const room = this.requireRoom();
    const replies: Json[] = [];
    for (const state of states) {
      if (typeof state.id !== 'string') continue;
      room.pcId ??= state.id;
      const d = state.description as Json | undefined;
      if (d?.type === 'offer' && typeof d.sdp === 'string') {
        // A sync repeats the last offer (the client's current local description): answered already.
        const revision = Number(d.revision) || room.descriptionRevision + 1;
        if (revision <= room.lastClientOffer) continue;
        room.lastClientOffer = revision;
        room.descriptionRevision = revision;
        const sdp = await this.options.sfu.run((offer: string) => window.sfu.answer(offer), d.sdp);
        this.learnSignaledTrackIds(sdp);
        replies.push({ id: state.id, description: { type: 'answer', sdp, revision: room.descriptionRevision } });
      } else if (d?.type === 'answer' && typeof d.sdp === 'string' && room.awaitingAnswer) {
        room.awaitingAnswer = false;
        await this.options.sfu.run((answer: string) => window.sfu.acceptAnswer(answer), d.sdp);
      }
      const ice = state.ice as Json | undefined;
      if (ice && Array.isArray(ice.candidates) && ice.candidates.length) {
        await this.options.sfu.run((c: RTCIceCandidateInit[]) => window.sfu.addCandidates(c), ice.candidates as RTCIceCandidateInit[]);
      }
    }
    return replies;
  }

  /**
   * The id under which the client will know each remote track is the track id of the `a=msid`
   * line of the m-section that carries it (twilio-video's TrackMatcher), as a media server's SDP
   * would signal it. A change is announced with a new `subscribed` revision.
   */
  private learnSignaledTrackIds(sdp: string): void {
    const room = this.requireRoom();
    let changed = false;
    for (const section of sdp.split(/\r?\nm=/).slice(1)) {
      const kind = section.startsWith('audio') ? 'audio' : section.startsWith('video') ? 'video' : undefined;
      const msid = /^a=msid:\S+ (\S+)/m.exec(section)?.[1];
      if (!kind || !msid || !/^a=(sendrecv|sendonly)/m.test(section)) continue;
      const track = this.remoteTracks.find((t) => t.kind === kind);
      if (track && track.id !== msid) {
        track.id = msid;
        changed = true;
      }
    }
    if (changed) room.subscribedRevision++;
  }

  private remoteParticipantState(): Json {
    const room = this.requireRoom();
    return {
      sid: this.remoteSid,
      identity: this.options.remoteIdentity,
      revision: room.remoteRevision,
      state: room.remoteConnected ? 'connected' : 'disconnected',
      tracks: this.remoteTracks.map((t) => ({ sid: t.sid, name: t.name, kind: t.kind, enabled: t.enabled, priority: 'standard' })),
    };
  }

  private publishedState(): Json {
    const room = this.requireRoom();
    return {
      revision: Math.max(1, room.publishedRevision),
      tracks: [...room.published].map(([id, trackSid]) => ({ id, sid: trackSid, state: 'ready' })),
    };
  }

  private subscribedState(): Json {
    const room = this.requireRoom();
    return { revision: room.subscribedRevision, tracks: this.remoteTracks.map((t) => ({ sid: t.sid, id: t.id })) };
  }

  private requireRoom(): RoomSession {
    if (!this.room) throw new Error('stand-in: no Room yet (the client has not sent connect)');
    return this.room;
  }

  private sendBody(body: Json): void {
    if (!this.ws) return;
    this.send(this.ws, { type: 'msg', body });
  }

  private send(ws: WebSocket, message: Json): void {
    if (ws.readyState !== ws.OPEN) return;
    if (message.type === 'msg') this.log('->', message.body);
    ws.send(JSON.stringify(message));
  }

  private startHeartbeat(ws: WebSocket): void {
    this.stopHeartbeat();
    this.heartbeat = setInterval(() => this.send(ws, { type: 'heartbeat' }), 2000);
  }

  private stopHeartbeat(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }
}

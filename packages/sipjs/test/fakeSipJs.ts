// Small stand-ins for SIP.js 0.21's UserAgent, Inviter, Invitation and Web.SessionDescriptionHandler
// with the same members, the same construction-time registration in `userAgent._sessions`, the
// same SDH factory call and the same orders the real library has (read in its source; the
// browser test checks the real thing). Failures are scriptable.
import { FakePeerConnection } from '../../core/test/helpers/fakePeerConnection';

export class FakeEmitter<T> {
  listeners: Array<(data: T) => void> = [];
  addListener(listener: (data: T) => void): void {
    this.listeners.push(listener);
  }
  removeListener(listener: (data: T) => void): void {
    this.listeners = this.listeners.filter((l) => l !== listener);
  }
  emit(data: T): void {
    for (const l of this.listeners.slice()) l(data);
  }
}

export interface FakeTrack {
  kind: 'audio' | 'video';
  enabled: boolean;
}

export class FakeSipPeerConnection extends FakePeerConnection {
  senders: Array<{ track: FakeTrack | null }> = [
    { track: { kind: 'audio', enabled: true } },
    { track: { kind: 'video', enabled: true } },
  ];
  getSenders(): Array<{ track: FakeTrack | null }> {
    return this.senders;
  }
}

const OFFER = 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=sendrecv\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=sendrecv\r\n';

/** Web.SessionDescriptionHandler's shape: public getDescription/setDescription/enableSenderTracks and its protected steps. */
export class FakeSdh {
  peerConnection: FakeSipPeerConnection | undefined = new FakeSipPeerConnection();
  /** Steps that fail next: name -> error. */
  fail: Partial<Record<'media' | 'create' | 'setLocal' | 'setRemote' | 'modifiers', unknown>> = {};
  mediaStreamFactory = (_constraints: unknown): Promise<unknown> => (this.fail.media ? Promise.reject(this.fail.media) : Promise.resolve({}));

  getDescription(options?: object): Promise<{ body: string; contentType: string }> {
    if (!this.peerConnection) return Promise.reject(new Error('Peer connection closed.'));
    return this.getLocalMediaStream(options)
      .then(() => this.createLocalOfferOrAnswer())
      .then((d) => (this.fail.modifiers ? Promise.reject(this.fail.modifiers) : d))
      .then((d) => this.setLocalSessionDescription(d).then(() => d))
      .then((d) => ({ body: d.sdp, contentType: 'application/sdp' }));
  }
  setDescription(sdp: string, options?: object): Promise<void> {
    if (!this.peerConnection) return Promise.reject(new Error('Peer connection closed.'));
    const type = this.peerConnection.signalingState === 'have-local-offer' ? 'answer' : 'offer';
    return this.getLocalMediaStream(options).then(() => this.setRemoteSessionDescription({ type, sdp }));
  }
  enableSenderTracks(enable: boolean): void {
    if (!this.peerConnection) throw new Error('Peer connection closed.');
    for (const s of this.peerConnection.senders) if (s.track) s.track.enabled = enable;
  }
  close(): void {
    this.peerConnection?.close();
    this.peerConnection = undefined;
  }
  // protected in SIP.js
  getLocalMediaStream(options?: object): Promise<void> {
    return this.mediaStreamFactory(options).then(() => undefined);
  }
  createLocalOfferOrAnswer(): Promise<{ type: string; sdp: string }> {
    if (this.fail.create) return Promise.reject(this.fail.create);
    const pc = this.peerConnection!;
    return Promise.resolve({ type: pc.signalingState === 'stable' ? 'offer' : 'answer', sdp: OFFER });
  }
  setLocalSessionDescription(d: { type: string; sdp: string }): Promise<void> {
    return this.setSessionDescription('local', d);
  }
  setRemoteSessionDescription(d: { type: string; sdp: string }): Promise<void> {
    return this.setSessionDescription('remote', d);
  }
  /** What the real SDH's pc.setLocalDescription/setRemoteDescription do to the fake pc (or the scripted failure). */
  private setSessionDescription(side: 'local' | 'remote', d: { type: string; sdp: string }): Promise<void> {
    const fail = side === 'local' ? this.fail.setLocal : this.fail.setRemote;
    if (fail) return Promise.reject(fail);
    const pc = this.peerConnection!;
    pc[`${side}Description`] = { type: d.type, sdp: d.sdp };
    pc.signalingState = d.type === 'offer' ? `have-${side}-offer` : 'stable';
    return Promise.resolve();
  }
}

/** An SDH that is not a Web SDH: no peer connection, no protected steps. */
export class OpaqueSdh {
  failWith: unknown;
  getDescription(): Promise<unknown> {
    return this.failWith ? Promise.reject(this.failWith) : Promise.resolve({ body: OFFER, contentType: 'application/sdp' });
  }
  setDescription(): Promise<void> {
    return this.failWith ? Promise.reject(this.failWith) : Promise.resolve();
  }
  close(): void {}
}

export interface FakeResponse {
  message: { statusCode: number; reasonPhrase: string };
}
export const response = (statusCode: number, reasonPhrase: string): FakeResponse => ({ message: { statusCode, reasonPhrase } });

type Delegate = { onAccept?(r: FakeResponse): void; onReject?(r: FakeResponse): void; onRedirect?(r: FakeResponse): void; onTrying?(r: FakeResponse): void };
interface InviteOptions {
  requestDelegate?: Delegate;
  sessionDescriptionHandlerOptions?: { hold?: boolean };
  withoutSdp?: boolean;
}

let counter = 0;

export abstract class FakeSession {
  state = 'Initial';
  readonly stateChange = new FakeEmitter<string>();
  readonly id: string;
  readonly request: { callId: string };
  readonly remoteIdentity: { uri: { user?: string; toString(): string }; displayName: string };
  sessionDescriptionHandler: FakeSdh | OpaqueSdh | undefined;
  sessionDescriptionHandlerOptionsReInvite: { hold?: boolean } = {};
  /** Options the last invite() got (after any wrapper). */
  lastInvite: InviteOptions | undefined;
  /** SIP.js's private `pendingReinvite`: one re-INVITE at a time. */
  pendingReinvite = false;

  constructor(
    readonly userAgent: FakeUserAgent,
    remoteUser: string | undefined,
    /** Runs right before the session registers itself (to make it odd before the adapter sees it). */
    beforeRegister?: (self: FakeSession) => void,
  ) {
    const callId = `call-${++counter}`;
    this.request = { callId };
    this.id = `${callId}tag`;
    const uri = remoteUser ? `sip:${remoteUser}@example.test` : 'sip:example.test';
    this.remoteIdentity = { uri: { ...(remoteUser ? { user: remoteUser } : {}), toString: () => uri }, displayName: remoteUser ?? '' };
    this.prepare();
    beforeRegister?.(this);
    // As the Inviter/Invitation constructors do (at their end):
    userAgent._sessions[this.id] = this;
  }

  /** Constructor work of the subclass that happens before registration. */
  protected prepare(): void {}

  transition(state: string): void {
    this.state = state;
    this.stateChange.emit(state);
    if (state === 'Terminated') {
      delete this.userAgent._sessions[this.id];
      (this.sessionDescriptionHandler as FakeSdh | undefined)?.close?.();
    }
  }

  setupSdh(): FakeSdh {
    const sdh = this.userAgent.configuration.sessionDescriptionHandlerFactory(this, {});
    this.sessionDescriptionHandler = sdh;
    return sdh as FakeSdh;
  }

  /** Session.invite() (re-INVITE) / Inviter.invite(): records its options. */
  invite(options: InviteOptions = {}): Promise<unknown> {
    // As SIP.js: a re-INVITE while one is pending is refused (RequestPendingError).
    if (this.pendingReinvite) return Promise.reject(new Error('Reinvite in progress. Please wait until complete, then try again.'));
    this.lastInvite = options;
    if (this.state === 'Established' && !options.withoutSdp) {
      this.pendingReinvite = true;
      if (options.sessionDescriptionHandlerOptions) this.sessionDescriptionHandlerOptionsReInvite = { ...options.sessionDescriptionHandlerOptions };
      return (this.sessionDescriptionHandler as FakeSdh).getDescription(this.sessionDescriptionHandlerOptionsReInvite);
    }
    return Promise.resolve();
  }

  /** The 2xx to our re-INVITE: answer applied, then requestDelegate.onAccept. */
  async acceptReinvite(answerSdp = 'v=0\r\nm=audio 9 X 0\r\na=recvonly\r\n'): Promise<void> {
    await (this.sessionDescriptionHandler as FakeSdh).setDescription(answerSdp);
    this.pendingReinvite = false;
    this.lastInvite?.requestDelegate?.onAccept?.(response(200, 'OK'));
  }

  /** An incoming re-INVITE: its offer goes to setDescription, then our answer. */
  async remoteReinvite(offerSdp: string): Promise<void> {
    const sdh = this.sessionDescriptionHandler as FakeSdh;
    await sdh.setDescription(offerSdp);
    await sdh.getDescription();
  }
}

export class FakeInviter extends FakeSession {
  isCanceled = false;
  cancel(): Promise<void> {
    this.isCanceled = true;
    this.transition('Terminating');
    return Promise.resolve();
  }
  override invite(options: InviteOptions = {}): Promise<unknown> {
    if (this.state !== 'Initial') return super.invite(options);
    this.lastInvite = options;
    if (options.withoutSdp) {
      // No offer: no SDH until the 2xx brings one.
      this.transition('Establishing');
      return Promise.resolve();
    }
    const sdh = this.setupSdh();
    return sdh.getDescription().then(
      () => this.transition('Establishing'),
      (e: unknown) => {
        this.transition('Terminated');
        throw e;
      },
    );
  }
  /** Final non-2xx, in SIP.js's order: Terminated listeners first, then requestDelegate.onReject. */
  rejectedWith(status: number, phrase: string): void {
    this.transition('Terminated');
    const r = response(status, phrase);
    if (status < 400) this.lastInvite?.requestDelegate?.onRedirect?.(r);
    else this.lastInvite?.requestDelegate?.onReject?.(r);
  }
  /** 2xx: the answer is applied, Established, then onAccept. */
  async answered(): Promise<void> {
    await (this.sessionDescriptionHandler as FakeSdh).setDescription('v=0\r\nm=audio 9 X 0\r\na=sendrecv\r\n');
    this.transition('Established');
    this.lastInvite?.requestDelegate?.onAccept?.(response(200, 'OK'));
  }
}

/** SIP.js's getReasonPhrase, for the statuses the tests use. */
const PHRASES: Record<number, string> = { 480: 'Temporarily Unavailable', 486: 'Busy Here', 487: 'Request Terminated', 500: 'Server Internal Error', 603: 'Decline' };

export class FakeInvitation extends FakeSession {
  isCanceled = false;
  /** SIP.js's IncomingInviteRequest (private, set before registration): reject() answers the response it sent. */
  declare incomingInviteRequest: { reject(o: { statusCode: number; reasonPhrase?: string }): { message: string } };
  protected override prepare(): void {
    this.incomingInviteRequest = {
      reject: (o) => ({ message: `SIP/2.0 ${o.statusCode} ${o.reasonPhrase ?? PHRASES[o.statusCode] ?? ''}\r\nVia: SIP/2.0/WSS x\r\n\r\n` }),
    };
  }
  async accept(): Promise<void> {
    this.transition('Establishing');
    const sdh = this.setupSdh();
    await sdh.setDescription('v=0\r\nm=audio 9 X 0\r\na=sendrecv\r\n');
    await sdh.getDescription();
    this.transition('Established');
  }
  /** As Invitation.reject(): default 480, the phrase from the status. */
  reject(options: { statusCode?: number; reasonPhrase?: string } = {}): Promise<void> {
    const statusCode = options.statusCode || 480;
    this.incomingInviteRequest.reject({ statusCode, reasonPhrase: options.reasonPhrase || PHRASES[statusCode] });
    this.transition('Terminated');
    return Promise.resolve();
  }
  /** The caller's CANCEL (Invitation._onCancel): 487 to the INVITE. */
  canceled(): void {
    this.isCanceled = true;
    this.incomingInviteRequest.reject({ statusCode: 487 });
    this.transition('Terminated');
  }
}

export class FakeUserAgent {
  _sessions: Record<string, FakeSession> = {};
  state = 'Stopped';
  readonly stateChange = new FakeEmitter<string>();
  readonly sdhs: Array<FakeSdh | OpaqueSdh> = [];
  makeSdh: () => FakeSdh | OpaqueSdh = () => new FakeSdh();
  readonly configuration: {
    sessionDescriptionHandlerFactory: (session: unknown, options?: unknown) => FakeSdh | OpaqueSdh;
    userAgentString: string;
  };
  constructor(userAgentString = 'SIP.js/0.21.0') {
    const factory = (): FakeSdh | OpaqueSdh => {
      const sdh = this.makeSdh();
      this.sdhs.push(sdh);
      return sdh;
    };
    this.configuration = { sessionDescriptionHandlerFactory: factory, userAgentString };
  }
  start(): void {
    this.state = 'Started';
    this.stateChange.emit('Started');
  }
  stop(): void {
    this.state = 'Stopped';
    this.stateChange.emit('Stopped');
  }
}

// A small stand-in for janus.js 1.4 (npm janus-gateway) with the behaviour the adapter relies on,
// as read in npm/dist/janus.es.js and written down in test/servers/README-janus.md:
//   - a session's `attach`/`destroy` are own properties (assigned in the constructor);
//   - attach fills missing callbacks with a noop (mutating the options), answers asynchronously,
//     and copies the callbacks onto the handle, which janus.js then always calls as properties;
//   - createOffer/createAnswer create `webrtcStuff.pc` synchronously, answer asynchronously;
//   - hangup() / detach() / Janus' hangup event close the pc, null it, then call oncleanup();
//   - server events: webrtcup -> webrtcState(true); hangup -> webrtcState(false, reason) +
//     hangup(); detached -> ondetached() + detach(); media -> mediaState; slowlink -> slowLink;
//     plugin events -> onmessage(data, jsep);
//   - Janus.sessions.set(id, session) right before the app's session success callback.
// The real library against a real Janus is exercised by janus.browser.test.ts.
import { FakePeerConnection } from '../../core/test/helpers/fakePeerConnection';

type Fn = (...args: any[]) => any;
export const noop: Fn = () => undefined;
const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

export const CALLBACKS = [
  'consentDialog', 'connectionState', 'iceState', 'mediaState', 'webrtcState', 'slowLink', 'onmessage',
  'onlocaltrack', 'onremotetrack', 'ondata', 'ondataopen', 'oncleanup', 'ondetached',
] as const;
export const METHODS = [
  'send', 'createOffer', 'createAnswer', 'handleRemoteJsep', 'hangup', 'detach', 'muteAudio', 'unmuteAudio',
  'muteVideo', 'unmuteVideo', 'getId', 'getPlugin',
] as const;

export function sdp(kinds: string[]): string {
  return (
    'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n' +
    kinds
      .map((k, i) => `m=${k} 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:${i}\r\na=${k === 'application' ? 'sendrecv' : 'sendonly'}\r\n`)
      .join('')
  );
}

export interface FakeHandle {
  id: number;
  plugin: string;
  session: FakeSession;
  detached: boolean;
  webrtcStuff: { pc: FakePeerConnection | null; myStream: boolean };
  sent: Array<{ message: Record<string, unknown>; jsep?: unknown }>;
  [member: string]: any;
}

export class FakeSession {
  static nextId = 1000;
  readonly id = FakeSession.nextId++;
  readonly handles = new Map<number, FakeHandle>();
  attach: (callbacks?: Record<string, unknown>) => void;
  destroy: (callbacks?: Record<string, unknown>) => void;
  destroyed = false;
  /** When set, createOffer/createAnswer fail with this error (like a getUserMedia refusal). */
  failWebrtc: unknown;

  constructor() {
    this.attach = (callbacks) => this.createHandle(callbacks ?? {});
    this.destroy = (callbacks) => this.destroySession(callbacks ?? {});
  }

  getSessionId(): number {
    return this.id;
  }

  private createHandle(callbacks: Record<string, any>): void {
    callbacks.success = typeof callbacks.success === 'function' ? callbacks.success : noop;
    callbacks.error = typeof callbacks.error === 'function' ? callbacks.error : noop;
    for (const name of CALLBACKS) callbacks[name] = typeof callbacks[name] === 'function' ? callbacks[name] : noop;
    const plugin = callbacks.plugin as string;
    void tick().then(() => {
      if (plugin === 'janus.plugin.missing') {
        callbacks.error('Ooops: 460 No such plugin');
        return;
      }
      const handle = this.makeHandle(plugin, callbacks);
      this.handles.set(handle.id, handle);
      callbacks.success(handle);
    });
  }

  private makeHandle(plugin: string, callbacks: Record<string, any>): FakeHandle {
    const session = this;
    const id = FakeSession.nextId++;
    const handle: FakeHandle = {
      id,
      plugin,
      session,
      detached: false,
      webrtcStuff: { pc: null, myStream: false },
      sent: [],
      getId: () => id,
      getPlugin: () => plugin,
      send(params: { message: Record<string, unknown>; jsep?: unknown; success?: Fn }) {
        handle.sent.push({ message: params.message, ...(params.jsep ? { jsep: params.jsep } : {}) });
        void tick().then(() => params.success?.());
      },
      createOffer: (params?: Record<string, any>) => void session.prepare(handle, true, params ?? {}),
      createAnswer: (params?: Record<string, any>) => void session.prepare(handle, false, params ?? {}),
      handleRemoteJsep(params: { jsep: { type: string; sdp: string }; success?: Fn; error?: Fn }) {
        const pc = handle.webrtcStuff.pc;
        if (!pc) return params.error?.('No PeerConnection: if this is an answer, use createAnswer and not handleRemoteJsep');
        pc.remoteDescription = params.jsep;
        void tick().then(() => params.success?.());
      },
      hangup: (sendRequest?: boolean) => session.cleanup(handle, sendRequest === true),
      detach(params?: { success?: Fn }) {
        session.cleanup(handle, false);
        handle.detached = true;
        session.handles.delete(id);
        params?.success?.();
      },
      muteAudio: () => session.mute(handle),
      unmuteAudio: () => session.mute(handle),
      muteVideo: () => session.mute(handle),
      unmuteVideo: () => session.mute(handle),
    };
    for (const name of CALLBACKS) handle[name] = callbacks[name];
    return handle;
  }

  private async prepare(handle: FakeHandle, offer: boolean, callbacks: Record<string, any>): Promise<void> {
    callbacks.success = typeof callbacks.success === 'function' ? callbacks.success : noop;
    callbacks.error = typeof callbacks.error === 'function' ? callbacks.error : noop;
    if (!offer && !callbacks.jsep) {
      callbacks.error('A valid JSEP is required for createAnswer');
      return;
    }
    if (callbacks.media && !callbacks.tracks) {
      const m = callbacks.media as Record<string, unknown>;
      callbacks.tracks = [
        ...(m.audio !== false ? [{ type: 'audio', capture: m.audioSend !== false, recv: m.audioRecv !== false }] : []),
        ...(m.video !== false ? [{ type: 'video', capture: m.videoSend !== false, recv: m.videoRecv !== false }] : []),
      ];
    }
    if (this.failWebrtc) {
      await tick();
      callbacks.error(this.failWebrtc);
      return;
    }
    // Created synchronously, before the first await, like janus.js's prepareWebrtc.
    const pc = (handle.webrtcStuff.pc ??= new FakePeerConnection());
    handle.webrtcStuff.myStream = (callbacks.tracks ?? []).some((t: { capture?: unknown }) => !!t.capture);
    if (!offer) pc.remoteDescription = callbacks.jsep;
    await tick();
    const kinds = ((callbacks.tracks ?? []) as Array<{ type: string }>).map((t) => (t.type === 'data' ? 'application' : t.type));
    const jsep = { type: offer ? 'offer' : 'answer', sdp: sdp(kinds) };
    pc.localDescription = jsep;
    callbacks.success(jsep);
  }

  private mute(handle: FakeHandle): boolean {
    return !!handle.webrtcStuff.pc && handle.webrtcStuff.myStream;
  }

  cleanup(handle: FakeHandle, sendRequest: boolean): void {
    if (sendRequest) handle.sent.push({ message: { janus: 'hangup' } });
    const pc = handle.webrtcStuff.pc;
    if (pc) pc.close();
    handle.webrtcStuff.pc = null;
    handle.oncleanup();
  }

  private destroySession(callbacks: Record<string, any>): void {
    if (callbacks.cleanupHandles === true) for (const h of [...this.handles.values()]) h.detach({ noRequest: true });
    this.destroyed = true;
    void tick().then(() => callbacks.success?.());
  }

  // ---- what the server sends (the names of Janus' own events) -------------------------------
  webrtcup(h: FakeHandle): void {
    h.webrtcState(true);
  }
  hangupEvent(h: FakeHandle, reason: string): void {
    h.webrtcState(false, reason);
    h.hangup();
  }
  detachedEvent(h: FakeHandle): void {
    h.ondetached();
    h.detach();
  }
  media(h: FakeHandle, type: string, receiving: boolean, mid: string): void {
    h.mediaState(type, receiving, mid);
  }
  slowlink(h: FakeHandle, uplink: boolean, lost: number, mid: string): void {
    h.slowLink(uplink, lost, mid);
  }
  event(h: FakeHandle, data: Record<string, unknown>, jsep?: { type: string; sdp: string }): void {
    h.onmessage(data, jsep);
  }
}

/** The janus.js default export's statics the adapter uses. */
export function fakeJanusStatic(): { sessions: Map<number, FakeSession>; create(): Promise<FakeSession> } {
  const sessions = new Map<number, FakeSession>();
  return {
    sessions,
    async create() {
      const s = new FakeSession();
      await tick();
      sessions.set(s.id, s); // janus.js does this right before the app's success callback
      return s;
    },
  };
}

/** Attach like an app: resolves with the handle once janus.js called success. */
export function attachHandle(session: FakeSession, options: Record<string, unknown>): Promise<FakeHandle> {
  return new Promise((resolve, reject) => {
    session.attach({ ...options, success: (h: FakeHandle) => resolve(h), error: (e: string) => reject(new Error(e)) });
  });
}

export { tick };

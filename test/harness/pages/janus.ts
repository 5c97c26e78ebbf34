// janus.js app plumbing shared by the Janus page entries (test/servers/janus.page.ts, the Janus
// adapter's packages/janus/test/janus.page.ts): npm janus-gateway (janus.js 1.4.x, ESM
// npm/dist/janus.es.js) + webrtc-adapter, described by local structural types (the package's d.ts
// misses `session`, `connectionState`, ...), and the promise wrappers a Janus app writes around
// its callbacks. No Callmetry code here.
import Janus from 'janus-gateway';
import adapter from 'webrtc-adapter';
import { waitFor } from './common';

export type Json = Record<string, unknown>;
export interface Jsep {
  type: string;
  sdp: string;
}
export interface Handle {
  id: number;
  plugin: string;
  session: unknown;
  detached: boolean;
  webrtcStuff: { pc: RTCPeerConnection | null };
  send(p: { message: Json; jsep?: Jsep; success?: (d?: unknown) => void; error?: (e: string) => void }): void;
  createOffer(p: { tracks?: Json[]; success: (j: Jsep) => void; error: (e: unknown) => void }): void;
  createAnswer(p: { jsep: Jsep; tracks?: Json[]; success: (j: Jsep) => void; error: (e: unknown) => void }): void;
  handleRemoteJsep(p: { jsep: Jsep; success?: () => void; error?: (e: unknown) => void }): void;
  hangup(sendRequest?: boolean): void;
  detach(p?: { success?: () => void; error?: (e: string) => void }): void;
  muteAudio(mid?: string): boolean;
  unmuteAudio(mid?: string): boolean;
  muteVideo(mid?: string): boolean;
  unmuteVideo(mid?: string): boolean;
  /** Plugin callbacks and the rest of janus.js' handle members. */
  [member: string]: unknown;
}
export interface Session {
  attach(o: Json): void;
  destroy(o: Json): void;
  getSessionId(): number;
}
export type JanusCtor = {
  new (o: Json): Session;
  init(o: Json): void;
  useDefaultDependencies(d: Json): unknown;
  sessions: Map<number, Session>;
};
export const J = Janus as unknown as JanusCtor;

let initDone: Promise<void> | null = null;
/** Janus.init, once per page: later calls get the first call's promise (and its dependencies). */
export function initJanus(debug: string[], dependencies: Json = { adapter }): Promise<void> {
  initDone ??= new Promise((ok) => J.init({ debug, dependencies: J.useDefaultDependencies(dependencies), callback: ok }));
  return initDone;
}

export function createSession(server: string, onDestroyed?: () => void): Promise<Session> {
  return new Promise((ok, ko) => {
    const s: Session = new J({
      server,
      iceServers: [],
      success: () => ok(s),
      error: (e: unknown) => ko(new Error(`Janus session: ${String(e)}`)),
      destroyed: () => onDestroyed?.(),
    });
  });
}

export function attach(session: Session, opts: Json): Promise<Handle> {
  return new Promise((ok, ko) => {
    session.attach({ ...opts, success: (h: Handle) => ok(h), error: (e: string) => ko(new Error(`attach ${String(opts.plugin)}: ${e}`)) });
  });
}

export function sendAsync(handle: Handle, message: Json, jsep?: Jsep): Promise<void> {
  return new Promise((ok, ko) =>
    handle.send({ message, ...(jsep ? { jsep } : {}), success: () => ok(), error: (e) => ko(new Error(`${String(message.request)}: ${e}`)) }),
  );
}

/** A createOffer() that sends and receives audio and video (`recv: false`: send only). */
export function offerAudioVideo(handle: Handle, recv: boolean): Promise<Jsep> {
  return new Promise<Jsep>((ok, ko) =>
    handle.createOffer({ tracks: [{ type: 'audio', capture: true, recv }, { type: 'video', capture: true, recv }], success: ok, error: ko }),
  );
}

/**
 * Starts an echotest on `handle`: offers audio + video (sent, and received back) and resolves once
 * `up()` holds (the app saw webrtcState(true)); rejects with the error `failure()` reports first.
 */
export async function startEchotest(handle: Handle, up: () => boolean, failure: () => unknown, what = 'echotest webrtcState(true)'): Promise<void> {
  const offer = await offerAudioVideo(handle, true);
  await sendAsync(handle, { audio: true, video: true }, offer);
  await waitFor(() => {
    const f = failure();
    if (f) throw f instanceof Error ? f : new Error(String(f));
    return up();
  }, what);
}

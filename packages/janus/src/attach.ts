import type {
  Fabric,
  FabricEvent,
  FabricOptions,
  FabricUsage,
  Logger,
  Monitor,
  MonitoredPeerConnection,
  TransmissionDirection,
  WebRTCFunction,
} from '@callmetry/core';
import type {
  AttachJanusOptions,
  DetachJanus,
  JanusAttachOptionsLike,
  JanusHandleInfo,
  JanusJsepLike,
  JanusMessage,
  JanusPluginHandleLike,
  JanusSendParams,
  JanusSessionLike,
  JanusWebrtcParams,
} from './types';

// -----------------------------------------------------------------------------------------------
// Small helpers

type AnyFunction = (this: unknown, ...args: unknown[]) => unknown;
type Restorers = Array<() => void>;

const DEFAULT_REMOTE_USER = 'janus';
const NOOP: DetachJanus = () => undefined;

const MUTE_METHODS = {
  muteAudio: { event: 'audioMute', kind: 'audio', muted: true },
  unmuteAudio: { event: 'audioUnmute', kind: 'audio', muted: false },
  muteVideo: { event: 'videoPause', kind: 'video', muted: true },
  unmuteVideo: { event: 'videoResume', kind: 'video', muted: false },
} as const satisfies Record<string, { event: FabricEvent; kind: string; muted: boolean }>;

/** Plugins whose PeerConnections belong to a room: the fabric waits for it (see ensureFabric). */
const ROOM_PLUGINS = new Set(['janus.plugin.videoroom', 'janus.plugin.audiobridge']);

/** Hangup reasons (Janus core) that mean the transport failed rather than someone hung up. */
const FAILURE_REASONS = /ICE failed|DTLS error/i;
const GUM_ERRORS = new Set(['NotAllowedError', 'NotFoundError', 'NotReadableError', 'OverconstrainedError', 'SecurityError', 'AbortError']);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function idString(value: unknown): string | undefined {
  if (typeof value === 'string') return value.length > 0 ? value : undefined;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

function nonEmpty(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

function isLogger(value: unknown): value is Logger {
  if (!isObject(value)) return false;
  return ['debug', 'info', 'warn', 'error'].every((level) => typeof value[level] === 'function');
}

/** The app's logger, else the monitor's (`monitor.logger`), else the console; never throws. */
function resolveLogger(monitor: unknown, options: AttachJanusOptions): Logger {
  const fromMonitor = isObject(monitor) ? monitor.logger : undefined;
  const base: Logger | undefined = isLogger(options.logger) ? options.logger : isLogger(fromMonitor) ? fromMonitor : undefined;
  const prefix = '[callmetry/janus]';
  const write = (level: keyof Logger, message: string, details: unknown[]): void => {
    try {
      if (base) base[level](`${prefix} ${message}`, ...details);
      else if (level !== 'debug' && typeof console !== 'undefined') console[level](prefix, message, ...details);
    } catch {
      // A broken logger must not break the call.
    }
  };
  return {
    debug: (m, ...d) => write('debug', m, d),
    info: (m, ...d) => write('info', m, d),
    warn: (m, ...d) => write('warn', m, d),
    error: (m, ...d) => write('error', m, d),
  };
}

/**
 * Replaces `target[name]` with `make(original)`; the restorer puts the original back only if the
 * member is still this wrapper (someone may have wrapped it on top since: then the wrapper stays
 * in their chain and the adapter makes it a pass-through).
 */
function wrapMember(target: object, name: string, make: (original: AnyFunction) => AnyFunction, restorers: Restorers): boolean {
  const record = target as Record<string, unknown>;
  const original = record[name];
  if (typeof original !== 'function') return false;
  const hadOwn = Object.prototype.hasOwnProperty.call(target, name);
  const wrapper = make(original as AnyFunction);
  try {
    record[name] = wrapper;
  } catch {
    return false; // frozen object
  }
  if (record[name] !== wrapper) return false;
  restorers.push(() => {
    if (record[name] !== wrapper) return;
    if (hadOwn) record[name] = original;
    else delete record[name];
  });
  return true;
}

/** A shallow copy that keeps the prototype and accessors (janus.js mutates what it is given). */
function copyOf<T extends object>(value: T): T {
  return Object.create(Object.getPrototypeOf(value) as object | null, Object.getOwnPropertyDescriptors(value)) as T;
}

/** Media kinds in an SDP's m-lines that are not rejected (port 0). */
function sdpKinds(sdp: unknown): Set<string> {
  const kinds = new Set<string>();
  if (typeof sdp !== 'string') return kinds;
  for (const m of sdp.matchAll(/^m=(audio|video|application) (\d+)/gm)) {
    if (m[2] !== '0' && m[1]) kinds.add(m[1] === 'application' ? 'data' : m[1]);
  }
  return kinds;
}

function errorName(error: unknown): string | undefined {
  if (isObject(error) && typeof error.name === 'string') return error.name;
  return undefined;
}

// -----------------------------------------------------------------------------------------------
// Per-handle state

/** The remote feed a subscriber mid carries, as the VideoRoom plugin described it. */
interface MidFeed {
  feedKey: string;
  feedId: number | string;
  display: string | undefined;
  usageLabel: string;
}

interface FeedInfo {
  id: number | string;
  display: string | undefined;
  /** false once 'unpublished'/'leaving' was seen for it (reported once). */
  present: boolean;
}

interface HandleWatch {
  readonly handle: JanusPluginHandleLike;
  readonly restorers: Restorers;
  /** The PeerConnection being monitored (kept: janus.js nulls webrtcStuff.pc on cleanup). */
  pc: MonitoredPeerConnection | undefined;
  /** Its fabric, once created (creation waits for the conference when it is not known yet). */
  fabric: Fabric | undefined;
  /** The fabric existed before the adapter saw the pc (the app added it): not terminated on detach. */
  foreignFabric: boolean;
  /** addFabric refused this pc: do not retry. */
  refused: boolean;
  /** The last PeerConnection, for the hangup event that janus.js may deliver after cleanup. */
  lastPc: MonitoredPeerConnection | undefined;
  hangupReported: WeakSet<MonitoredPeerConnection>;
  room: string | undefined;
  ptype: 'publisher' | 'subscriber' | undefined;
  /** Media kinds asked for / offered (audio, video, screen, data). */
  kinds: Set<string>;
  sends: boolean;
  offerer: boolean | undefined;
  /** Subscriber mid -> feed (null: inactive / no feed). */
  midFeeds: Map<string, MidFeed | null>;
  /** Subscriber mid -> the last feed it carried (kept when the mid goes inactive). */
  lastFeedOfMid: Map<string, string>;
  /** What was last given to the current fabric's mapStream per mid. */
  applied: Map<string, string>;
  muted: Map<string, boolean>;
}

// -----------------------------------------------------------------------------------------------

class SessionAttachment {
  private active = true;
  private readonly restorers: Restorers = [];
  private readonly watches = new Map<JanusPluginHandleLike, HandleWatch>();
  private readonly feeds = new Map<string, FeedInfo>();

  constructor(
    private readonly session: JanusSessionLike,
    private readonly monitor: Monitor,
    private readonly options: AttachJanusOptions,
    private readonly log: Logger,
    private readonly onDetached: () => void,
  ) {}

  start(): void {
    const self = this;
    wrapMember(
      this.session,
      'attach',
      (original) =>
        function attachWrapper(this: unknown, ...args: unknown[]): unknown {
          if (self.active) {
            const patched = self.safe(() => self.patchAttachOptions(args[0]));
            if (patched !== undefined) args[0] = patched;
          }
          return original.apply(this, args);
        },
      this.restorers,
    );
    wrapMember(
      this.session,
      'destroy',
      (original) =>
        function destroyWrapper(this: unknown, ...args: unknown[]): unknown {
          if (self.active) self.safe(() => self.sessionDestroyed());
          return original.apply(this, args);
        },
      this.restorers,
    );
  }

  readonly detach: DetachJanus = () => {
    if (!this.active) return;
    this.active = false;
    for (const watch of [...this.watches.values()]) this.safe(() => this.release(watch));
    this.watches.clear();
    for (const restore of this.restorers.splice(0).reverse()) this.safe(restore);
    this.safe(this.onDetached);
  };

  /** Starts watching handles attached before the adapter. */
  watchHandles(handles: unknown): void {
    if (!this.active || !Array.isArray(handles)) return;
    for (const handle of handles) this.safe(() => this.watch(handle as JanusPluginHandleLike));
  }

  // ---------------------------------------------------------------------------------------------
  // Session level

  private patchAttachOptions(options: unknown): unknown {
    if (!isObject(options)) return undefined;
    const self = this;
    const appOptions = options as JanusAttachOptionsLike;
    const appSuccess = appOptions.success as unknown;
    const appError = appOptions.error as unknown;
    const plugin = nonEmpty(appOptions.plugin) ?? 'unknown';
    const patched = copyOf(appOptions);
    patched.success = function success(this: unknown, handle: unknown): unknown {
      if (self.active) self.safe(() => self.watch(handle as JanusPluginHandleLike));
      return typeof appSuccess === 'function' ? (appSuccess as AnyFunction).call(appOptions, handle) : undefined;
    } as JanusAttachOptionsLike['success'];
    patched.error = function error(this: unknown, message: unknown): unknown {
      if (self.active) self.safe(() => self.attachFailed(plugin, message));
      return typeof appError === 'function' ? (appError as AnyFunction).call(appOptions, message) : undefined;
    };
    return patched;
  }

  private attachFailed(plugin: string, message: unknown): void {
    const conference = this.staticConference() ?? this.fallbackConference();
    this.monitor.reportError(conference, 'signalingError', `Janus: attaching ${plugin} failed: ${String(message)}`);
  }

  /** `session.destroy()`: the handles go away with it (janus.js may not even call their callbacks). */
  private sessionDestroyed(): void {
    for (const watch of this.watches.values()) this.endFabric(watch, true);
    this.detach();
  }

  private sessionId(): string | undefined {
    try {
      return idString(this.session.getSessionId?.());
    } catch {
      return undefined;
    }
  }

  private staticConference(): string | undefined {
    return nonEmpty(this.options.conferenceID);
  }

  private fallbackConference(): string {
    const id = this.sessionId();
    return id ? `janus-${id}` : 'janus';
  }

  // ---------------------------------------------------------------------------------------------
  // Handles

  private watch(handle: JanusPluginHandleLike): void {
    if (!isObject(handle) || this.watches.has(handle)) return;
    const watch: HandleWatch = {
      handle,
      restorers: [],
      pc: undefined,
      fabric: undefined,
      foreignFabric: false,
      refused: false,
      lastPc: undefined,
      hangupReported: new WeakSet(),
      room: undefined,
      ptype: undefined,
      kinds: new Set(),
      sends: false,
      offerer: undefined,
      midFeeds: new Map(),
      lastFeedOfMid: new Map(),
      applied: new Map(),
      muted: new Map(),
    };
    this.watches.set(handle, watch);
    this.wrapHandle(watch);
    const pc = this.currentPc(watch);
    if (pc) this.onPeerConnection(watch, pc, true);
  }

  /** The adapter stops watching this handle (it was detached). */
  private unwatch(watch: HandleWatch): void {
    if (this.watches.get(watch.handle) !== watch) return;
    this.release(watch);
    this.watches.delete(watch.handle);
  }

  private release(watch: HandleWatch): void {
    if (watch.fabric && !watch.foreignFabric) this.safe(() => this.terminate(watch));
    for (const restore of watch.restorers.splice(0).reverse()) this.safe(restore);
  }

  private wrapHandle(watch: HandleWatch): void {
    const self = this;
    const handle = watch.handle;
    const r = watch.restorers;
    /** Adapter work first (so it happens even if the app's callback throws), then the app's callback. */
    const before = (name: string, work: (...args: unknown[]) => void): void => {
      wrapMember(
        handle,
        name,
        (original) =>
          function (this: unknown, ...args: unknown[]): unknown {
            if (self.active) self.safe(() => work(...args));
            return original.apply(this, args);
          },
        r,
      );
    };

    // Callbacks janus.js copied from the attach options.
    before('onmessage', (message, jsep) => this.onMessage(watch, message, jsep));
    before('webrtcState', (up, reason) => this.onWebrtcState(watch, up === true, reason));
    before('iceState', () => this.ensureFabric(watch, true));
    before('mediaState', (kind, receiving, mid) => this.onMediaState(watch, kind, receiving, mid));
    before('slowLink', (uplink, lost, mid) => this.onSlowLink(watch, uplink, lost, mid));
    before('oncleanup', () => this.endFabric(watch, false));
    before('ondetached', () => this.unwatch(watch));

    // Methods: the PeerConnection is created synchronously inside createOffer/createAnswer.
    for (const method of ['createOffer', 'createAnswer'] as const) {
      wrapMember(
        handle,
        method,
        (original) =>
          function (this: unknown, ...args: unknown[]): unknown {
            if (!self.active) return original.apply(this, args);
            const patched = self.safe(() => self.patchWebrtcParams(watch, method, args[0]));
            if (patched !== undefined) args[0] = patched;
            try {
              return original.apply(this, args);
            } finally {
              self.safe(() => self.afterCreate(watch, method, args[0]));
            }
          },
        r,
      );
    }
    wrapMember(
      handle,
      'handleRemoteJsep',
      (original) =>
        function (this: unknown, ...args: unknown[]): unknown {
          if (self.active) {
            const patched = self.safe(() => self.patchErrorCallback(watch, 'setRemoteDescription', args[0]));
            if (patched !== undefined) args[0] = patched;
          }
          return original.apply(this, args);
        },
      r,
    );
    before('send', (params) => this.onSend(watch, params));
    for (const [method, spec] of Object.entries(MUTE_METHODS)) {
      wrapMember(
        handle,
        method,
        (original) =>
          function (this: unknown, ...args: unknown[]): unknown {
            const result = original.apply(this, args);
            if (self.active && result !== false) self.safe(() => self.onMute(watch, spec, args[0]));
            return result;
          },
        r,
      );
    }
    wrapMember(
      handle,
      'detach',
      (original) =>
        function (this: unknown, ...args: unknown[]): unknown {
          try {
            return original.apply(this, args);
          } finally {
            // janus.js cleaned the PeerConnection up synchronously (oncleanup ran): stop watching.
            if (self.active) self.safe(() => self.unwatch(watch));
          }
        },
      r,
    );
  }

  private currentPc(watch: HandleWatch): MonitoredPeerConnection | undefined {
    const stuff = watch.handle.webrtcStuff;
    const pc = isObject(stuff) ? stuff.pc : undefined;
    return isObject(pc) ? pc : undefined;
  }

  private info(watch: HandleWatch): JanusHandleInfo {
    const handle = watch.handle;
    let plugin = nonEmpty(handle.plugin);
    let handleId = idString(handle.id);
    try {
      plugin ??= nonEmpty(handle.getPlugin?.());
      handleId ??= idString(handle.getId?.());
    } catch {
      // keep what we have
    }
    const sessionId = this.sessionId();
    return {
      plugin: plugin ?? 'unknown',
      ...(handleId !== undefined ? { handleId } : {}),
      ...(sessionId !== undefined ? { sessionId } : {}),
      ...(watch.room !== undefined ? { room: watch.room } : {}),
      ...(watch.ptype !== undefined ? { ptype: watch.ptype } : {}),
    };
  }

  // ---------------------------------------------------------------------------------------------
  // The fabric

  private onPeerConnection(watch: HandleWatch, pc: MonitoredPeerConnection, force: boolean): void {
    if (watch.pc === pc) {
      this.ensureFabric(watch, force);
      return;
    }
    if (watch.pc) this.endFabric(watch, false);
    watch.pc = pc;
    watch.lastPc = pc;
    watch.fabric = undefined;
    watch.foreignFabric = false;
    watch.refused = false;
    watch.applied.clear();
    watch.muted.clear();
    this.ensureFabric(watch, force);
  }

  /** The app's conference option, else the room; undefined while neither is known. */
  private conferenceFor(watch: HandleWatch): string | undefined {
    const option = this.options.conferenceID;
    if (typeof option === 'string') return nonEmpty(option);
    if (typeof option === 'function') {
      try {
        const value = nonEmpty(option(watch.handle, this.info(watch)));
        if (value) return value;
      } catch (error) {
        this.log.warn('the conferenceID option threw; using the room', error);
      }
    }
    return watch.room;
  }

  private remoteUserFor(watch: HandleWatch): string {
    const option = this.options.remoteUserID;
    if (typeof option === 'string') return nonEmpty(option) ?? DEFAULT_REMOTE_USER;
    if (typeof option === 'function') {
      try {
        const value = nonEmpty(option(watch.handle, this.info(watch)));
        if (value) return value;
      } catch (error) {
        this.log.warn(`the remoteUserID option threw; using '${DEFAULT_REMOTE_USER}'`, error);
      }
    }
    return DEFAULT_REMOTE_USER;
  }

  private usageFor(watch: HandleWatch): FabricUsage {
    const k = watch.kinds;
    const audio = k.has('audio');
    const video = k.has('video') || k.has('screen');
    if (audio && video) return 'multiplex';
    if (audio) return 'audio';
    if (video) return k.has('screen') && !k.has('video') ? 'screen' : 'video';
    if (k.has('data')) return 'data';
    return 'multiplex';
  }

  private directionFor(watch: HandleWatch): TransmissionDirection {
    if (watch.ptype === 'publisher') return 'sendonly';
    if (watch.ptype === 'subscriber') return 'receiveonly';
    if (watch.offerer === false && !watch.sends) return 'receiveonly';
    return 'sendrecv';
  }

  /**
   * Creates the fabric for the current pc. For room plugins (VideoRoom, AudioBridge) it waits
   * until the room is known, unless `force`d (the offer/answer is done, the connection is about
   * to be set up): then the fallback conference is used.
   */
  private ensureFabric(watch: HandleWatch, force: boolean): void {
    if (watch.fabric || watch.refused) return;
    const pc = watch.pc ?? this.currentPc(watch);
    if (!pc) return;
    if (!watch.pc) {
      this.onPeerConnection(watch, pc, force);
      return;
    }
    const info = this.info(watch);
    // Plugins with rooms: wait for the room (join request / joined event) unless forced.
    const waitForRoom = !force && ROOM_PLUGINS.has(info.plugin);
    const conferenceID = this.conferenceFor(watch) ?? (waitForRoom ? undefined : this.fallbackConference());
    if (!conferenceID) return;
    const options: FabricOptions = {
      remoteUserID: this.remoteUserFor(watch),
      conferenceID,
      usage: this.usageFor(watch),
      remoteEndpointType: 'server',
      direction: this.directionFor(watch),
      attributes: {
        janusPlugin: info.plugin,
        ...(info.sessionId !== undefined ? { janusSessionId: info.sessionId } : {}),
        ...(info.handleId !== undefined ? { janusHandleId: info.handleId } : {}),
        ...(info.room !== undefined ? { janusRoom: info.room } : {}),
        ...(info.ptype !== undefined ? { janusRole: info.ptype } : {}),
      },
    };
    const existing = this.monitor.getFabric(pc);
    const { fabric, result } = this.monitor.tryAddFabric(pc, options);
    if (!fabric) {
      watch.refused = true;
      this.log.warn(`not monitoring ${info.plugin} handle ${info.handleId ?? '?'}: ${result.message ?? 'refused'}`);
      return;
    }
    watch.fabric = fabric;
    watch.foreignFabric = existing !== undefined;
    this.applyMappings(watch);
  }

  private alive(watch: HandleWatch): Fabric | undefined {
    const fabric = watch.fabric;
    return fabric && fabric.state !== 'terminated' ? fabric : undefined;
  }

  private terminate(watch: HandleWatch): void {
    const fabric = this.alive(watch);
    if (fabric) fabric.terminate();
  }

  /** The PeerConnection is gone (cleanup, hangup, detach, session destroyed): end its fabric. */
  private endFabric(watch: HandleWatch, includeForeign: boolean): void {
    if (watch.fabric && (includeForeign || !watch.foreignFabric || watch.pc?.signalingState === 'closed')) this.terminate(watch);
    if (watch.fabric || watch.pc) {
      watch.fabric = undefined;
      watch.pc = undefined;
      watch.applied.clear();
    }
  }

  private conferenceOf(watch: HandleWatch): string {
    return watch.fabric?.conferenceID ?? this.conferenceFor(watch) ?? this.fallbackConference();
  }

  private customEvent(watch: HandleWatch, name: string, data: Record<string, unknown>): void {
    const pc = watch.pc ?? watch.lastPc;
    const result = this.monitor.sendCustomEvent(this.conferenceOf(watch), name, data, pc);
    if (result?.status === 'failure') this.log.debug(`custom event ${name} not sent: ${result.message ?? ''}`);
  }

  private reportError(watch: HandleWatch, fn: WebRTCFunction, error: unknown): void {
    const fabric = this.alive(watch);
    if (fabric) fabric.reportError(fn, error);
    else this.monitor.reportError(this.conferenceOf(watch), fn, error);
  }

  // ---------------------------------------------------------------------------------------------
  // createOffer / createAnswer / handleRemoteJsep / send

  private patchWebrtcParams(watch: HandleWatch, method: 'createOffer' | 'createAnswer', params: unknown): unknown {
    if (!isObject(params)) return undefined;
    const self = this;
    const app = params as JanusWebrtcParams;
    const appSuccess = app.success as unknown;
    const patched = this.patchErrorCallback(watch, method, params) as JanusWebrtcParams;
    patched.success = function success(this: unknown, jsep: JanusJsepLike): unknown {
      try {
        return typeof appSuccess === 'function' ? (appSuccess as AnyFunction).call(app, jsep) : undefined;
      } finally {
        // The app has had its chance to send the join (with the room): create the fabric now.
        if (self.active) self.safe(() => self.ensureFabric(watch, true));
      }
    };
    return patched;
  }

  private patchErrorCallback(watch: HandleWatch, fn: WebRTCFunction, params: unknown): unknown {
    if (!isObject(params)) return undefined;
    const self = this;
    const appError = params.error as unknown;
    const patched = copyOf(params);
    patched.error = function error(this: unknown, err: unknown): unknown {
      if (self.active) {
        self.safe(() => {
          const name = errorName(err);
          self.reportError(watch, name && GUM_ERRORS.has(name) ? 'getUserMedia' : fn, err);
        });
      }
      return typeof appError === 'function' ? (appError as AnyFunction).call(params, err) : undefined;
    };
    return patched;
  }

  private afterCreate(watch: HandleWatch, method: 'createOffer' | 'createAnswer', params: unknown): void {
    // janus.js has turned the deprecated `media` into `tracks` on this object by now.
    const p = isObject(params) ? (params as JanusWebrtcParams) : {};
    if (watch.offerer === undefined) watch.offerer = method === 'createOffer';
    if (Array.isArray(p.tracks)) {
      for (const t of p.tracks) {
        if (!isObject(t) || typeof t.type !== 'string' || t.remove === true) continue;
        const capture = t.capture !== undefined && t.capture !== false && t.capture !== null;
        if (t.type !== 'data' && capture) watch.sends = true;
        if (t.type === 'data' || capture || t.recv !== false) watch.kinds.add(t.type);
      }
    }
    for (const kind of sdpKinds(isObject(p.jsep) ? p.jsep.sdp : undefined)) watch.kinds.add(kind);
    const pc = this.currentPc(watch);
    if (pc) this.onPeerConnection(watch, pc, false);
  }

  private onSend(watch: HandleWatch, params: unknown): void {
    const message = isObject(params) ? (params as JanusSendParams).message : undefined;
    if (!isObject(message)) return;
    const request = message.request;
    if (request === 'join' || request === 'joinandconfigure') {
      const room = idString(message.room);
      if (room !== undefined) watch.room = room;
      const ptype = message.ptype;
      if (ptype === 'publisher') watch.ptype = 'publisher';
      else if (ptype === 'subscriber' || ptype === 'listener') watch.ptype = 'subscriber';
    }
    this.ensureFabric(watch, false);
  }

  // ---------------------------------------------------------------------------------------------
  // Callbacks

  private onWebrtcState(watch: HandleWatch, up: boolean, reason: unknown): void {
    if (up) {
      this.ensureFabric(watch, true);
      return;
    }
    // Janus hung the PeerConnection up; janus.js calls handle.hangup() right after this.
    const pc = watch.pc ?? this.currentPc(watch) ?? watch.lastPc;
    if (!pc || watch.hangupReported.has(pc)) return;
    watch.hangupReported.add(pc);
    const text = typeof reason === 'string' ? reason : undefined;
    const info = this.info(watch);
    this.customEvent(watch, 'hangup', {
      ...(text !== undefined ? { reason: text } : {}),
      plugin: info.plugin,
      ...(info.handleId !== undefined ? { handleId: info.handleId } : {}),
    });
    const fabric = this.alive(watch);
    if (fabric && text && FAILURE_REASONS.test(text) && fabric.state !== 'failed') {
      fabric.reportError('iceConnectionFailure', `Janus hung up the PeerConnection: ${text}`);
    }
    if (watch.pc === pc) this.endFabric(watch, true);
  }

  private onMediaState(watch: HandleWatch, kind: unknown, receiving: unknown, mid: unknown): void {
    if (!this.alive(watch)) return;
    this.customEvent(watch, 'mediaState', {
      type: String(kind),
      receiving: receiving === true,
      ...(idString(mid) !== undefined ? { mid: idString(mid) } : {}),
    });
  }

  private onSlowLink(watch: HandleWatch, uplink: unknown, lost: unknown, mid: unknown): void {
    // Janus' flag is from its own side (observed with Janus 1.1.2 and a lossy relay): uplink=true
    // = this client reported (NACKed) many packets Janus sent it, i.e. this client's *receive*
    // path loses; uplink=false = Janus is not getting all of this client's packets (*send* path).
    this.customEvent(watch, 'slowLink', {
      uplink: uplink === true,
      direction: uplink === true ? 'receive' : 'send',
      lost: typeof lost === 'number' ? lost : Number(lost) || 0,
      ...(idString(mid) !== undefined ? { mid: idString(mid) } : {}),
    });
  }

  private onMute(watch: HandleWatch, spec: (typeof MUTE_METHODS)[keyof typeof MUTE_METHODS], mid: unknown): void {
    const fabric = this.alive(watch);
    if (!fabric) return;
    const midText = idString(mid);
    const key = `${spec.kind}:${midText ?? '*'}`;
    const was = watch.muted.get(key) ?? watch.muted.get(`${spec.kind}:*`) ?? false;
    if (was === spec.muted) return;
    watch.muted.set(key, spec.muted);
    if (midText === undefined) {
      for (const k of [...watch.muted.keys()]) if (k.startsWith(`${spec.kind}:`)) watch.muted.set(k, spec.muted);
    }
    fabric.sendEvent(spec.event, midText !== undefined ? { mid: midText } : undefined);
  }

  // ---------------------------------------------------------------------------------------------
  // Plugin messages (VideoRoom)

  private onMessage(watch: HandleWatch, message: unknown, jsep: unknown): void {
    if (!isObject(message)) return;
    const room = idString(message.room);
    if (room !== undefined) watch.room = room;
    const event = message.videoroom;
    if (event === 'joined') {
      watch.ptype ??= 'publisher';
      this.registerPublishers(message.publishers);
    } else if (event === 'attached' || event === 'updated') {
      watch.ptype = 'subscriber';
      this.subscriberStreams(watch, message.streams);
    } else if (event === 'event') {
      this.registerPublishers(message.publishers);
      if (message.switched === 'ok') this.subscriberStreams(watch, message.streams);
      for (const key of ['unpublished', 'leaving'] as const) {
        const feed = message[key];
        if (feed !== undefined && feed !== 'ok') this.feedLeft(watch, feed, key);
      }
    }
    if (message.error !== undefined || message.error_code !== undefined) {
      const code = idString(message.error_code);
      const info = this.info(watch);
      this.reportError(watch, 'signalingError', `Janus ${info.plugin} error${code ? ` ${code}` : ''}: ${String(message.error ?? '')}`);
    }
    if (isObject(jsep)) for (const kind of sdpKinds(jsep.sdp)) watch.kinds.add(kind);
    this.ensureFabric(watch, false);
  }

  private registerPublishers(list: unknown): void {
    if (!Array.isArray(list)) return;
    for (const p of list) {
      if (!isObject(p)) continue;
      const key = idString(p.id);
      if (key === undefined) continue;
      this.feeds.set(key, { id: p.id as number | string, display: nonEmpty(p.display), present: true });
    }
  }

  private subscriberStreams(watch: HandleWatch, streams: unknown): void {
    if (!Array.isArray(streams)) return;
    for (const s of streams) {
      if (!isObject(s)) continue;
      const mid = idString(s.mid);
      if (mid === undefined || (s.type !== 'audio' && s.type !== 'video')) continue;
      const feedKey = idString(s.feed_id);
      const known = feedKey !== undefined ? this.feeds.get(feedKey) : undefined;
      if (s.active === false || feedKey === undefined || known?.present === false) {
        watch.midFeeds.set(mid, null);
        continue;
      }
      const display = nonEmpty(s.feed_display) ?? known?.display;
      if (!known) this.feeds.set(feedKey, { id: s.feed_id as number | string, display, present: true });
      else if (display && !known.display) known.display = display;
      watch.lastFeedOfMid.set(mid, feedKey);
      watch.midFeeds.set(mid, {
        feedKey,
        feedId: s.feed_id as number | string,
        display,
        usageLabel: nonEmpty(s.feed_description) ?? s.type,
      });
    }
    this.applyMappings(watch);
  }

  private userIdFor(feedId: number | string, display: string | undefined): string {
    const option = this.options.userIdFromFeed;
    if (typeof option === 'function') {
      try {
        const value = nonEmpty(option(feedId, display));
        if (value) return value;
      } catch (error) {
        this.log.warn('the userIdFromFeed option threw; using the display name', error);
      }
    }
    return display ?? String(feedId);
  }

  /** Gives the fabric the mid -> publisher mappings that changed since it last got them. */
  private applyMappings(watch: HandleWatch): void {
    const fabric = this.alive(watch);
    if (!fabric) return;
    for (const [mid, feed] of watch.midFeeds) {
      const previous = watch.applied.get(mid);
      if (!feed) {
        if (previous !== undefined && previous !== 'none') {
          // No "unmap" in core: attribute the stream to the fabric's remote user (the default) again.
          fabric.mapStream({ mid }, { userID: fabric.remoteUserID });
        }
        watch.applied.set(mid, 'none');
        continue;
      }
      const userID = this.userIdFor(feed.feedId, feed.display);
      const key = `feed:${feed.feedKey}:${userID}:${feed.usageLabel}`;
      if (previous === key) continue;
      const result = fabric.mapStream({ mid }, { userID, usageLabel: feed.usageLabel });
      if (result.status === 'success') watch.applied.set(mid, key);
      else this.log.warn(`mapStream(mid ${mid}) failed: ${result.message ?? ''}`);
    }
  }

  /** A publisher stopped publishing or left ('unpublished' / 'leaving' on a publisher handle). */
  private feedLeft(from: HandleWatch, feed: unknown, reason: 'unpublished' | 'leaving'): void {
    const feedKey = idString(feed);
    if (feedKey === undefined) return;
    const info = this.feeds.get(feedKey);
    if (!info || !info.present) return;
    info.present = false;
    let target: HandleWatch | undefined;
    const mids: string[] = [];
    for (const watch of this.watches.values()) {
      let carried = false;
      let changed = false;
      for (const [mid, last] of watch.lastFeedOfMid) {
        if (last !== feedKey) continue;
        mids.push(mid);
        carried = true;
        if (watch.midFeeds.get(mid)?.feedKey !== feedKey) continue;
        watch.midFeeds.set(mid, null);
        changed = true;
      }
      if (changed) this.applyMappings(watch);
      if (carried && (!target || (!this.alive(target) && this.alive(watch)))) target = watch;
    }
    this.customEvent(target ?? from, 'publisherLeft', {
      feedId: info.id,
      ...(info.display !== undefined ? { display: info.display } : {}),
      userID: this.userIdFor(info.id, info.display),
      reason,
      mids: mids.sort(),
    });
  }

  // ---------------------------------------------------------------------------------------------

  private safe<T>(fn: () => T): T | undefined {
    try {
      return fn();
    } catch (error) {
      this.log.error('internal error (ignored, the call goes on)', error);
      return undefined;
    }
  }
}

// -----------------------------------------------------------------------------------------------
// Public entry points

const attachments = new WeakMap<object, Map<Monitor, SessionAttachment>>();

function isMonitor(value: unknown): value is Monitor {
  return isObject(value) && typeof value.tryAddFabric === 'function' && typeof value.sendCustomEvent === 'function';
}

/**
 * Monitors a janus.js session: every plugin handle attached from now on (plus `options.handles`)
 * gets its PeerConnection monitored as a fabric to the server, VideoRoom subscriber streams are
 * attributed to their publishers, and hangups, slow links, mutes and leaving publishers are
 * reported. Idempotent per (session, monitor). Never throws.
 */
export function attachJanus(session: JanusSessionLike, monitor: Monitor, options: AttachJanusOptions = {}): DetachJanus {
  const opts: AttachJanusOptions = isObject(options) ? options : {};
  const log = resolveLogger(monitor, opts);
  try {
    if (!isObject(session) || typeof session.attach !== 'function') {
      log.error('attachJanus: the first argument is not a janus.js session (new Janus({...}))');
      return NOOP;
    }
    if (!isMonitor(monitor)) {
      log.error('attachJanus: the second argument is not a Monitor (createMonitor from @callmetry/core)');
      return NOOP;
    }
    let perMonitor = attachments.get(session);
    const existing = perMonitor?.get(monitor);
    if (existing) {
      existing.watchHandles(opts.handles);
      return existing.detach;
    }
    if (!perMonitor) attachments.set(session, (perMonitor = new Map()));
    const map = perMonitor;
    const attachment: SessionAttachment = new SessionAttachment(session, monitor, opts, log, () => {
      if (map.get(monitor) === attachment) map.delete(monitor);
    });
    map.set(monitor, attachment);
    attachment.start();
    attachment.watchHandles(opts.handles);
    return attachment.detach;
  } catch (error) {
    log.error('attachJanus failed; the session is not monitored', error);
    return NOOP;
  }
}

const instruments = new WeakMap<object, Map<Monitor, DetachJanus>>();

/**
 * Monitors every janus.js session created from now on (and those already in `Janus.sessions`,
 * without their earlier handles) by wrapping `Janus.sessions.set`. Pass the `Janus` default
 * export. Idempotent per (Janus, monitor). Never throws.
 */
export function instrumentJanus(janus: object, monitor: Monitor, options: AttachJanusOptions = {}): DetachJanus {
  const opts: AttachJanusOptions = isObject(options) ? options : {};
  const log = resolveLogger(monitor, opts);
  try {
    const sessions = (janus as { sessions?: unknown } | null)?.sessions;
    if (!isObject(sessions) || typeof sessions.set !== 'function' || typeof sessions.forEach !== 'function') {
      log.error('instrumentJanus: the first argument has no Janus.sessions map (pass the janus.js default export)');
      return NOOP;
    }
    if (!isMonitor(monitor)) {
      log.error('instrumentJanus: the second argument is not a Monitor (createMonitor from @callmetry/core)');
      return NOOP;
    }
    let perMonitor = instruments.get(janus);
    const existing = perMonitor?.get(monitor);
    if (existing) return existing;
    if (!perMonitor) instruments.set(janus, (perMonitor = new Map()));
    const map = perMonitor;

    const sessionOptions: AttachJanusOptions = { ...opts };
    delete sessionOptions.handles;
    let active = true;
    const detaches = new Set<DetachJanus>();
    const restorers: Restorers = [];
    const attachOne = (session: unknown): void => {
      if (isObject(session) && typeof session.attach === 'function') {
        detaches.add(attachJanus(session as unknown as JanusSessionLike, monitor, sessionOptions));
      }
    };
    (sessions as unknown as Map<unknown, unknown>).forEach((session) => attachOne(session));
    wrapMember(
      sessions,
      'set',
      (original) =>
        function set(this: unknown, ...args: unknown[]): unknown {
          const result = original.apply(this, args);
          if (active) {
            try {
              attachOne(args[1]);
            } catch (error) {
              log.error('instrumentJanus: attaching a new session failed', error);
            }
          }
          return result;
        },
      restorers,
    );
    const detach: DetachJanus = () => {
      if (!active) return;
      active = false;
      try {
        for (const restore of restorers.splice(0).reverse()) restore();
        for (const d of detaches) d();
        detaches.clear();
      } catch (error) {
        log.error('instrumentJanus: detach failed', error);
      }
      if (map.get(monitor) === detach) map.delete(monitor);
    };
    map.set(monitor, detach);
    return detach;
  } catch (error) {
    log.error('instrumentJanus failed; sessions are not monitored', error);
    return NOOP;
  }
}

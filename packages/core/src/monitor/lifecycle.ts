import type { Milliseconds, MonitoredPeerConnection } from '../types';

/**
 * What the lifecycle observer tells the fabric. It only reports transitions of the
 * peer connection itself; the fabric decides what they mean for its own state.
 */
export interface LifecycleCallbacks {
  /** First successful connection. Delays are measured from `startedAt` (addNewFabric). */
  onSetup(delays: SetupDelays): void;
  /** The connection failed before it ever connected. */
  onSetupFailed(reason: string): void;
  /** An established connection was lost (disconnected or failed). */
  onDisruptionStart(state: string): void;
  /** A disrupted connection came back. */
  onDisruptionEnd(duration: Milliseconds): void;
  /** A disruption ended in 'failed': the connection is dropped unless ICE restarts. */
  onDropped(): void;
  /** The local ICE credentials changed: an ICE restart. */
  onIceRestart(): void;
  /** The peer connection was closed. */
  onClosed(): void;
  /** Any state change, for the event log. */
  onStateChange(kind: 'connectionState' | 'iceConnectionState' | 'iceGatheringState' | 'signalingState', prev: string, next: string): void;
}

export interface SetupDelays {
  setupDelay: Milliseconds;
  gatheringDelay?: Milliseconds;
  connectivityDelay?: Milliseconds;
  /** True when the connection was already up when the fabric was added. */
  alreadyConnected?: boolean;
}

const STATE_EVENTS = [
  'connectionstatechange',
  'iceconnectionstatechange',
  'icegatheringstatechange',
  'signalingstatechange',
] as const;

/** The connection's overall state; falls back to ICE state where connectionState is missing (old Firefox/Safari). */
function overallState(pc: MonitoredPeerConnection): string {
  if (typeof pc.connectionState === 'string') return pc.connectionState;
  switch (pc.iceConnectionState) {
    case 'completed':
      return 'connected';
    case 'checking':
      return 'connecting';
    default:
      return pc.iceConnectionState;
  }
}

function iceUfrag(sdp: string | undefined): string | undefined {
  if (!sdp) return undefined;
  const match = /a=ice-ufrag:(\S+)/.exec(sdp);
  return match?.[1];
}

/**
 * Observes a peer connection through its own events and states — never by replacing the global
 * RTCPeerConnection. `check()` is also called at every poll tick because `pc.close()` fires no
 * events in browsers.
 */
export class LifecycleObserver {
  private readonly listener = () => this.check();
  private attached = false;
  private established = false;
  private setupFailed = false;
  private disruptedSince: number | undefined;
  private dropped = false;
  private closed = false;
  private last = { connectionState: '', iceConnectionState: '', iceGatheringState: '', signalingState: '' };
  private gatheringStartedAt: number | undefined;
  private gatheringDelay: number | undefined;
  private checkingStartedAt: number | undefined;
  private localUfrag: string | undefined;

  constructor(
    private readonly pc: MonitoredPeerConnection,
    private readonly startedAt: number,
    private readonly callbacks: LifecycleCallbacks,
    private readonly now: () => number,
  ) {}

  start(): void {
    if (this.attached) return;
    this.attached = true;
    for (const type of STATE_EVENTS) this.pc.addEventListener(type, this.listener);
    this.localUfrag = iceUfrag(this.pc.localDescription?.sdp);
    this.check();
  }

  stop(): void {
    if (!this.attached) return;
    this.attached = false;
    for (const type of STATE_EVENTS) this.pc.removeEventListener(type, this.listener);
  }

  get isEstablished(): boolean {
    return this.established;
  }

  /** Reads the current states and reports transitions. Safe to call at any time. */
  check(): void {
    if (this.closed) return;
    const pc = this.pc;
    const t = this.now();
    const current = {
      connectionState: overallState(pc),
      iceConnectionState: pc.iceConnectionState,
      iceGatheringState: pc.iceGatheringState ?? '',
      signalingState: pc.signalingState,
    };
    for (const key of Object.keys(current) as Array<keyof typeof current>) {
      const prev = this.last[key];
      const next = current[key];
      if (prev === next) continue;
      this.last[key] = next;
      this.callbacks.onStateChange(key, prev, next);
      if (key === 'iceGatheringState') {
        if (next === 'gathering' && this.gatheringStartedAt === undefined) this.gatheringStartedAt = t;
        if (next === 'complete' && this.gatheringStartedAt !== undefined && this.gatheringDelay === undefined)
          this.gatheringDelay = t - this.gatheringStartedAt;
      }
      if (key === 'iceConnectionState' && next === 'checking' && this.checkingStartedAt === undefined)
        this.checkingStartedAt = t;
    }

    if (current.signalingState === 'closed' || current.connectionState === 'closed') {
      this.closed = true;
      this.stop();
      this.callbacks.onClosed();
      return;
    }

    this.detectIceRestart();

    const state = current.connectionState;
    if (!this.established) {
      if (state === 'connected') {
        this.established = true;
        const alreadyConnected = this.checkingStartedAt === undefined && this.gatheringStartedAt === undefined;
        this.callbacks.onSetup({
          setupDelay: alreadyConnected ? 0 : t - this.startedAt,
          ...(this.gatheringDelay !== undefined ? { gatheringDelay: this.gatheringDelay } : {}),
          ...(this.checkingStartedAt !== undefined ? { connectivityDelay: t - this.checkingStartedAt } : {}),
          ...(alreadyConnected ? { alreadyConnected: true } : {}),
        });
      } else if (state === 'failed' && !this.setupFailed) {
        this.setupFailed = true;
        this.callbacks.onSetupFailed(`connection ${state} before it was ever connected`);
      }
      return;
    }

    if (state === 'disconnected' || state === 'failed') {
      if (this.disruptedSince === undefined) {
        this.disruptedSince = t;
        this.callbacks.onDisruptionStart(state);
      }
      if (state === 'failed' && !this.dropped) {
        this.dropped = true;
        this.callbacks.onDropped();
      }
    } else if (state === 'connected' && this.disruptedSince !== undefined) {
      const duration = t - this.disruptedSince;
      this.disruptedSince = undefined;
      this.dropped = false;
      this.callbacks.onDisruptionEnd(duration);
    }
  }

  private detectIceRestart(): void {
    const ufrag = iceUfrag(this.pc.localDescription?.sdp);
    if (ufrag === undefined) return;
    if (this.localUfrag !== undefined && ufrag !== this.localUfrag) this.callbacks.onIceRestart();
    this.localUfrag = ufrag;
  }
}

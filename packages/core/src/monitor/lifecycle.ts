import type { MonitoredPeerConnection } from '../types';

/**
 * What the observer reports: `fabricSetup` (first connection; delays from `startedAt`),
 * `fabricSetupFailed` (failed before it ever connected), `connectionDisruptionStart` / `End`
 * (an established connection lost and back), `fabricDropped` (a disruption that ended in
 * 'failed'), `iceRestarted` (the local ICE credentials changed) and `closed`.
 */
export type LifecycleEvent =
  | 'fabricSetup'
  | 'fabricSetupFailed'
  | 'connectionDisruptionStart'
  | 'connectionDisruptionEnd'
  | 'fabricDropped'
  | 'iceRestarted'
  | 'closed';

export interface LifecycleObserver {
  start(): void;
  stop(): void;
  /** Reads the current states and reports transitions. Safe to call at any time; never throws. */
  check(): void;
  readonly established: boolean;
}

const STATE_EVENTS = ['connection', 'iceconnection', 'icegathering', 'signaling'];

/** The connection's overall state; from the ICE state where connectionState is missing (old Firefox/Safari). */
function overallState(pc: MonitoredPeerConnection): string {
  const ice = pc.iceConnectionState;
  return pc.connectionState ?? (ice == 'completed' ? 'connected' : ice == 'checking' ? 'connecting' : ice);
}

/**
 * Observes a peer connection through its own events and states — never by replacing the global
 * RTCPeerConnection. `check()` is also called at every poll tick because `pc.close()` fires no
 * events in browsers. The fabric decides what the transitions mean for its own state.
 *
 * Nothing here throws into the pc's event dispatch or the caller: a pc whose add/removeEventListener
 * or state getters throw (a wrapper, a partial shim) is still observed by the ticks where it can
 * be; `onError` hears what failed.
 */
export function observeLifecycle(
  pc: MonitoredPeerConnection,
  startedAt: number,
  now: () => number,
  report: (event: LifecycleEvent, data?: Record<string, unknown>) => void,
  onError: (what: string, error: unknown) => void = () => {},
): LifecycleObserver {
  let attached = false;
  let established = false;
  let setupFailed = false;
  let dropped = false;
  let closed = false;
  let disruptedSince: number | undefined;
  let gatheringStartedAt: number | undefined;
  let gatheringDelay: number | undefined;
  let checkingStartedAt: number | undefined;
  let localUfrag: string | undefined;

  const listen = (on: boolean): void => {
    if (attached == on) return;
    attached = on;
    const method = on ? 'addEventListener' : 'removeEventListener';
    for (const type of STATE_EVENTS)
      try {
        pc[method](`${type}statechange`, check);
      } catch (error) {
        onError(`pc.${method}('${type}statechange') threw`, error);
      }
  };

  function check(): void {
    try {
      checkStates();
    } catch (error) {
      onError('reading the PeerConnection states failed', error);
    }
  }

  function checkStates(): void {
    if (closed) return;
    const t = now();
    const state = overallState(pc);
    const gathering = pc.iceGatheringState;
    if (gathering == 'gathering') gatheringStartedAt ??= t;
    if (gathering == 'complete' && gatheringStartedAt !== undefined) gatheringDelay ??= t - gatheringStartedAt;
    if (pc.iceConnectionState == 'checking') checkingStartedAt ??= t;

    if (pc.signalingState == 'closed' || state == 'closed') {
      closed = true;
      listen(false);
      return report('closed');
    }

    const ufrag = /a=ice-ufrag:(\S+)/.exec(pc.localDescription?.sdp ?? '')?.[1];
    if (ufrag) {
      if (localUfrag && ufrag != localUfrag) report('iceRestarted');
      localUfrag = ufrag;
    }

    if (!established) {
      if (state == 'connected') {
        established = true;
        const alreadyConnected = checkingStartedAt === undefined && gatheringStartedAt === undefined;
        const setup: Record<string, unknown> = { setupDelay: alreadyConnected ? 0 : t - startedAt };
        if (gatheringDelay !== undefined) setup.gatheringDelay = gatheringDelay;
        if (checkingStartedAt !== undefined) setup.connectivityDelay = t - checkingStartedAt;
        if (alreadyConnected) setup.alreadyConnected = true;
        report('fabricSetup', setup);
      } else if (state == 'failed' && !setupFailed) {
        setupFailed = true;
        report('fabricSetupFailed', { reason: 'connection failed before it was ever connected' });
      }
    } else if (state == 'disconnected' || state == 'failed') {
      if (disruptedSince === undefined) {
        disruptedSince = t;
        report('connectionDisruptionStart', { connectionState: state });
      }
      if (state == 'failed' && !dropped) {
        dropped = true;
        report('fabricDropped');
      }
    } else if (state == 'connected' && disruptedSince !== undefined) {
      const duration = t - disruptedSince;
      disruptedSince = undefined;
      dropped = false;
      report('connectionDisruptionEnd', { duration });
    }
  }

  return {
    start() {
      listen(true);
      check();
    },
    stop: () => listen(false),
    check,
    get established() {
      return established;
    },
  };
}

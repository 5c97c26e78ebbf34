import type { MonitoredPeerConnection, StatsEntry, StatsReportLike } from '../../src/types';

/**
 * A scriptable stand-in for RTCPeerConnection for fast unit tests of the fabric contract.
 * Real peer connections are exercised by the *.browser.test.ts files in Chromium.
 */
export class FakePeerConnection implements MonitoredPeerConnection {
  connectionState = 'new';
  iceConnectionState = 'new';
  iceGatheringState = 'new';
  signalingState = 'stable';
  localDescription: { type: string; sdp: string } | null = null;
  remoteDescription: { type: string; sdp: string } | null = null;
  getStatsCalls = 0;
  nextReport: StatsEntry[] = [];
  failGetStats: Error | undefined;
  private readonly listeners = new Map<string, Set<(event: unknown) => void>>();

  async getStats(): Promise<StatsReportLike> {
    this.getStatsCalls++;
    if (this.failGetStats) throw this.failGetStats;
    const entries = this.nextReport;
    const map = new Map(entries.map((e) => [e.id, e]));
    return map;
  }

  addEventListener(type: string, listener: (event: unknown) => void): void {
    let set = this.listeners.get(type);
    if (!set) this.listeners.set(type, (set = new Set()));
    set.add(listener);
  }

  removeEventListener(type: string, listener: (event: unknown) => void): void {
    this.listeners.get(type)?.delete(listener);
  }

  listenerCount(): number {
    let n = 0;
    for (const set of this.listeners.values()) n += set.size;
    return n;
  }

  /** Moves through states and fires the events a browser would. */
  setStates(states: Partial<Pick<FakePeerConnection, 'connectionState' | 'iceConnectionState' | 'iceGatheringState' | 'signalingState'>>): void {
    const fire: string[] = [];
    if (states.iceGatheringState !== undefined) {
      this.iceGatheringState = states.iceGatheringState;
      fire.push('icegatheringstatechange');
    }
    if (states.iceConnectionState !== undefined) {
      this.iceConnectionState = states.iceConnectionState;
      fire.push('iceconnectionstatechange');
    }
    if (states.connectionState !== undefined) {
      this.connectionState = states.connectionState;
      fire.push('connectionstatechange');
    }
    if (states.signalingState !== undefined) {
      this.signalingState = states.signalingState;
      fire.push('signalingstatechange');
    }
    for (const type of fire) for (const l of [...(this.listeners.get(type) ?? [])]) l({ type });
  }

  connect(): void {
    this.setStates({ iceGatheringState: 'gathering' });
    this.setStates({ iceConnectionState: 'checking', connectionState: 'connecting' });
    this.setStates({ iceGatheringState: 'complete' });
    this.setStates({ iceConnectionState: 'connected', connectionState: 'connected' });
  }

  /** Like the browser: close() changes state but fires no event. */
  close(): void {
    this.signalingState = 'closed';
    this.connectionState = 'closed';
    this.iceConnectionState = 'closed';
  }
}

// Small helpers shared by the browser-side page entries of the tests (bundled into each page by
// test/harness/browser.ts): polling with a deadline, and playing what a PeerConnection receives.

/** How long a page waits for anything before it gives up (the test's own timeouts are longer). */
export const DEADLINE_MS = 20_000;

/** Resolve when `cond()` is true (checked every 50 ms); reject with `timed out waiting for <what>` after a deadline. */
export function waitFor(cond: () => boolean | Promise<boolean>, what: string, deadlineMs = DEADLINE_MS): Promise<void> {
  return new Promise((ok, ko) => {
    const started = Date.now();
    const tick = async (): Promise<void> => {
      try {
        if (await cond()) return ok();
      } catch (e) {
        return ko(e);
      }
      if (Date.now() - started > deadlineMs) return ko(new Error(`timed out waiting for ${what}`));
      setTimeout(() => void tick(), 50);
    };
    void tick();
  });
}

/** Plays a received track in a muted media element: audio is only decoded once attached to one. */
export function playTrack(track: MediaStreamTrack, stream = new MediaStream([track])): void {
  const el = document.createElement(track.kind === 'video' ? 'video' : 'audio');
  el.autoplay = true;
  el.muted = true;
  el.srcObject = stream;
  document.body.append(el);
}

/** Plays every track `pc` receives (in its first stream), after `onTrack` saw it. */
export function playRemoteTracks(pc: RTCPeerConnection, onTrack?: (track: MediaStreamTrack) => void): void {
  pc.addEventListener('track', (e) => {
    onTrack?.(e.track);
    playTrack(e.track, e.streams[0]);
  });
}

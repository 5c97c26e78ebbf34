// Debian's Chromium and the flags that make it usable for offline WebRTC tests and benchmarks
// (see ../shared/field-notes.md). No vitest import: the benchmark uses it too.
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Flags that make headless Chromium usable for offline WebRTC tests (see docs in field notes). */
export const CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--allow-loopback-in-peer-connection',
];

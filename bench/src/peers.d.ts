// Peer SDKs without type declarations (and a fallback for all of them when bench/node_modules is
// not installed yet, so that the root `npm run typecheck` does not depend on it). The pages cast
// what they use to small local interfaces.
declare module '@jitsi/rtcstats/rtcstats';
declare module '@jitsi/rtcstats/trace-ws';
declare module '@peermetrics/webrtc-stats';
declare module '@testrtc/watchrtc-sdk';
declare module '@observertc/client-monitor-js';

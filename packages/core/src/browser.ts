/**
 * Entry of the browser build (dist/callstats.min.js): a drop-in for callstats.js's script tag.
 * Like callstats.js, the global `callstats` works with or without `new` and carries the enums;
 * the typed API is on the global `Callmetry`.
 */
import {
  attachAdapter,
  CallStats,
  callStatsAPIReturnStatus,
  callType,
  createMonitor,
  csError,
  endpointType,
  fabricEvent,
  fabricUsage,
  qualityRating,
  roles,
  transmissionDirection,
  tryCreateMonitor,
  userIDType,
  webRTCFunctions,
} from './index';
import type * as Index from './index';

const g = globalThis as unknown as Record<string, unknown>;
// CallStats' own enumerable properties are callstats.js's enums (and version).
g.callstats = Object.assign(function callstats(): CallStats {
  return new CallStats();
}, CallStats);
// index.ts's exports, written out (the type keeps the list complete) in a namespace object's key
// order, frozen and without a prototype: what rollup builds for `import * as`, without the getter
// helper esbuild would add for it.
const api: typeof Index = Object.freeze({
  __proto__: null,
  CallStats,
  attachAdapter,
  callStatsAPIReturnStatus,
  callType,
  createMonitor,
  csError,
  endpointType,
  fabricEvent,
  fabricUsage,
  qualityRating,
  roles,
  transmissionDirection,
  tryCreateMonitor,
  userIDType,
  webRTCFunctions,
});
g.Callmetry = api;

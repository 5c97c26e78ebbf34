/**
 * Entry of the browser build (dist/callstats.min.js): a drop-in for callstats.js's script tag.
 * Like callstats.js, the global `callstats` works with or without `new` and carries the enums;
 * the typed API is on the global `Callmetry`.
 */
import { CallStats } from './callstats/CallStats';
import * as api from './index';

const g = globalThis as unknown as Record<string, unknown>;
// CallStats' own enumerable properties are callstats.js's enums (and version).
g.callstats = Object.assign(function callstats(): CallStats {
  return new CallStats();
}, CallStats);
g.Callmetry = api;

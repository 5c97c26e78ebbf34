/**
 * Entry of the browser build (dist/callstats.min.js): a drop-in for callstats.js's script tag.
 * Like callstats.js, the global `callstats` works with or without `new`; the typed API is on
 * the global `Callmetry`.
 */
import { CallStats } from './callstats/CallStats';
import * as api from './index';

type CallstatsGlobal = { (): CallStats; new (): CallStats } & Record<string, unknown>;

function makeGlobalConstructor(): CallstatsGlobal {
  const ctor = function callstats(): CallStats {
    return new CallStats();
  } as unknown as CallstatsGlobal;
  for (const key of [
    'fabricEvent',
    'fabricUsage',
    'endpointType',
    'transmissionDirection',
    'webRTCFunctions',
    'qualityRating',
    'csError',
    'callStatsAPIReturnStatus',
    'userIDType',
    'callType',
    'roles',
    'version',
  ] as const) {
    ctor[key] = CallStats[key];
  }
  return ctor;
}

const g = globalThis as unknown as Record<string, unknown>;
g.callstats = makeGlobalConstructor();
g.Callmetry = api;

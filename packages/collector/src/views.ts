// The heavy conference reads: the query API's conference body and the conference summary. Both are
// computed by the two functions below whatever thread runs them: in the caller's thread through
// inThreadViews (any Storage), or in a storage's worker threads (Storage.openViews, e.g. the SQLite
// reader pool in ./storage/readerPool.ts), which call the same functions on the data they read.
import { buildConferenceDetail } from './query';
import type { ConferenceData, ConferenceSummaryResult, ConferenceViews, Storage, TimeWindow } from './types';
import { computeSummary } from './summary';

/** The query API's body for a conference, serialized as the server sends it (UTF-8 JSON). */
export function conferenceDetailJson(data: ConferenceData, maxPoints: number, window: TimeWindow): Uint8Array {
  // TextEncoder: a Uint8Array over its own ArrayBuffer, which a worker can transfer without a copy.
  return new TextEncoder().encode(JSON.stringify(buildConferenceDetail(data, maxPoints, window)));
}

export function conferenceSummaryOf(data: ConferenceData, reason: 'terminated' | 'idle', now: number): ConferenceSummaryResult {
  return { summary: computeSummary(data, reason, now), dataVersion: data.conference.dataVersion };
}

/** The views read through storage.getConference() and computed in this thread. */
export function inThreadViews(storage: Storage): ConferenceViews {
  return {
    async conferenceDetailJson(appID, conferenceID, maxPoints, window, signal) {
      signal?.throwIfAborted();
      const data = await storage.getConference(appID, conferenceID, window);
      return data && conferenceDetailJson(data, maxPoints, window);
    },
    async conferenceSummary(ref, reason, now) {
      const data = await storage.getConference(ref.appID, ref.conferenceID);
      return data && conferenceSummaryOf(data, reason, now);
    },
    async close() {},
  };
}

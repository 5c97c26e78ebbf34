/**
 * Final flush when the page goes away (pagehide): every unacknowledged item, in n order, POSTed to
 * /v1/ingest?token= as text/plain (no headers, so no CORS preflight) with navigator.sendBeacon, or
 * fetch({keepalive: true}) when sendBeacon is missing or refuses. Both cap a page's in-flight body
 * bytes (about 64 KiB): chunks are small, and what is over the quota is lost (sendBeacon says so
 * and sending stops; keepalive fetches fail silently). No answer is awaited: sent items stay
 * buffered and are resent if the page lives on (bfcache); the collector stores them once.
 */
import { serialized, type BufferedItem } from './buffer';

/** Per request; under the ~64 KiB keepalive/beacon quota. */
export const BEACON_MAX_BYTES = 60_000;

/** Returns the items handed to the browser (they are marked transmitted by the caller). */
export function sendFinal(
  items: readonly BufferedItem[],
  sid: string,
  url: string,
  fetchImpl: typeof fetch | undefined,
  maxItems: number,
): BufferedItem[] {
  const sent: BufferedItem[] = [];
  const nav = (globalThis as { navigator?: { sendBeacon?: (url: string, data?: string) => boolean } }).navigator;
  const head = `{"sid":${JSON.stringify(sid)},"items":[`;
  let i = 0;
  while (i < items.length) {
    const chunk: string[] = [];
    const chunkItems: BufferedItem[] = [];
    let bytes = head.length + 2;
    for (; i < items.length && chunk.length < maxItems; i++) {
      const s = serialized(items[i] as BufferedItem);
      if (chunk.length > 0 && bytes + s.bytes + 1 > BEACON_MAX_BYTES) break;
      chunk.push(s.json);
      chunkItems.push(items[i] as BufferedItem);
      bytes += s.bytes + 1;
    }
    const body = `${head}${chunk.join(',')}]}`;
    let ok = false;
    if (nav && typeof nav.sendBeacon === 'function') {
      try {
        ok = nav.sendBeacon(url, body) === true;
      } catch {
        ok = false;
      }
    }
    if (!ok && fetchImpl) {
      try {
        void fetchImpl(url, {
          method: 'POST',
          body,
          keepalive: true,
          headers: { 'Content-Type': 'text/plain;charset=UTF-8' },
        }).catch(() => undefined);
        ok = true;
      } catch {
        ok = false;
      }
    }
    if (!ok) break;
    sent.push(...chunkItems);
  }
  return sent;
}

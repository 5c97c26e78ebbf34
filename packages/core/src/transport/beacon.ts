/**
 * Final flush when the page goes away (pagehide): every unacknowledged item, in n order, POSTed to
 * /v1/ingest?token= as text/plain (no headers, so no CORS preflight) with navigator.sendBeacon, or
 * fetch({keepalive: true}) when sendBeacon is missing or refuses. Both cap a page's in-flight body
 * bytes (about 64 KiB): chunks are small, and what is over the quota is lost (sendBeacon says so
 * and sending stops; keepalive fetches fail silently). No answer is awaited: sent items stay
 * buffered and are resent if the page lives on (bfcache); the collector stores them once.
 */
import { batchJson, fitting, type BufferedItem } from './buffer';

/** Per request; under the ~64 KiB keepalive/beacon quota. */
const BEACON_MAX_BYTES = 60_000;

/** Returns the items handed to the browser (the caller marks them transmitted). */
export function sendFinal(
  items: readonly BufferedItem[],
  sid: string,
  url: string,
  fetchImpl: typeof fetch | undefined,
  maxItems: number,
): BufferedItem[] {
  const nav = (globalThis as { navigator?: { sendBeacon?: (url: string, data: string) => boolean } }).navigator;
  const envelopeBytes = batchJson(sid, []).length;
  let sent = 0;
  while (sent < items.length) {
    const chunk = fitting(items.slice(sent), maxItems, BEACON_MAX_BYTES, envelopeBytes);
    const body = batchJson(sid, chunk);
    let ok = false;
    try {
      ok = nav?.sendBeacon?.(url, body) === true;
    } catch {}
    try {
      if (!ok && fetchImpl) {
        fetchImpl(url, { method: 'POST', body, keepalive: true, headers: { 'Content-Type': 'text/plain;charset=UTF-8' } }).catch(() => {});
        ok = true;
      }
    } catch {}
    if (!ok) break;
    sent += chunk.length;
  }
  return items.slice(0, sent);
}

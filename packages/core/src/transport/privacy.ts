/**
 * Last line of defence for candidate IP addresses: unless collectIP is true, `localAddress` and
 * `remoteAddress` never leave the transport, whatever the stats layer put in a stats item.
 */
import { isPlainObject } from './util';

const IP_FIELDS = ['localAddress', 'remoteAddress'] as const;

function strip(o: Record<string, unknown>): Record<string, unknown> {
  if (!IP_FIELDS.some((f) => f in o)) return o;
  const copy = { ...o };
  for (const f of IP_FIELDS) delete copy[f];
  return copy;
}

/** Returns the stats item's connection and stream entries without IP fields (copies only when needed). */
export function stripAddresses(connection: unknown, streams: Array<Record<string, unknown>>): {
  connection: Record<string, unknown> | undefined;
  streams: Array<Record<string, unknown>>;
} {
  return {
    connection: isPlainObject(connection) ? strip(connection) : undefined,
    streams: streams.map(strip),
  };
}

// Stream keys of stored samples: the collector's own are set apart from every key a client may send.

/** Stream keys starting with this are the collector's: validation refuses them from clients. */
export const RESERVED_KEY_PREFIX = '#';
/** Key under which a stats item's `connection` is stored among the stream samples. */
export const CONNECTION_KEY = `${RESERVED_KEY_PREFIX}connection`;

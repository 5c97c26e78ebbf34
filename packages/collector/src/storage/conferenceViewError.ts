// How a ConferenceViews implementation (../types.ts) refuses a read.

/** Why ConferenceViews refused a read: the HTTP status and code the query API answers with. */
export class ConferenceViewError extends Error {
  constructor(
    readonly code: 'busy' | 'timeout' | 'reader_failed' | 'closed',
    message: string,
    readonly status: 500 | 503,
    /** For `busy`: when to try again (s). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'ConferenceViewError';
  }
}

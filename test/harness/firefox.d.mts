// Types of ./firefox.mjs (plain ESM, shared with the stats recorder).
export declare const FIREFOX_PATH: string;

/** A WebDriver BiDi session on a headless Firefox. */
export interface Firefox {
  /** Firefox's version, e.g. `153.8.0`. */
  version: string;
  /** Sends a BiDi command; resolves its result, rejects with `<error>: <message>`. */
  send(method: string, params: Record<string, unknown>): Promise<any>;
  /** Listens to a BiDi event (subscribed: `log.entryAdded`). */
  on(method: string, listener: (params: any) => void): void;
  /** Closes the browser and removes its profile. */
  close(): Promise<void>;
}

export declare function launchFirefox(): Promise<Firefox>;

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
  /**
   * A new tab on `url`, loaded ('complete'): its browsing context id, also given to `onCreated`
   * before the page loads (to tell its log entries). A failed load closes the tab.
   */
  openTab(url: string, onCreated?: (context: string) => void): Promise<string>;
  /** Closes a tab (errors ignored: it may be gone). */
  closeTab(context: string): Promise<void>;
  /**
   * Evaluates `expression` in the tab, awaiting a promise; it must answer a JSON string (parsed
   * here) or undefined. An exception in the page rejects with its text, naming `label`.
   */
  evaluateJson(context: string, expression: string, label?: string): Promise<unknown>;
  /** Closes the browser and removes its profile. */
  close(): Promise<void>;
}

export declare function launchFirefox(): Promise<Firefox>;

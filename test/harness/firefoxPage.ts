// Browser tests in Firefox: the same page bundles and the same page API (`run`, `errors`) as
// ./browser.ts's openPage() for Chromium, on Debian's firefox-esr driven over WebDriver BiDi
// (./firefox.mjs). Inside the network namespace made by test/run.mjs only.
import { mountPage, nextPageSlot, requireNamespace, startHttpServer, useLaunched, type BrowserPage, type OpenPageOptions } from './browser';
import { launchFirefox, type Firefox } from './firefox.mjs';

export type { Firefox };

/** vitest helper: launches Firefox in beforeAll, closes it in afterAll; returns a getter. */
export function useFirefox(): () => Firefox {
  const launch = (): Promise<Firefox> => {
    requireNamespace();
    return launchFirefox();
  };
  return useLaunched('useFirefox(): Firefox', launch, (firefox) => firefox.close(), 60_000);
}

/**
 * For fixtures where Firefox is an option (`owner({ firefox: true })`): useFirefox() when
 * `enabled`, else a getter that says how to enable it.
 */
export function useFirefoxIf(enabled: boolean | undefined, owner: string): () => Firefox {
  if (enabled) return useFirefox();
  return () => {
    throw new Error(`${owner}(): pass { firefox: true } to open pages in Firefox`);
  };
}

/**
 * Opens a tab on a page served from http://127.0.0.1:<port>/ with the given bundles loaded;
 * console errors and uncaught exceptions of that tab are collected in `errors`.
 */
export async function openFirefoxPage(
  firefox: Firefox,
  options: Pick<OpenPageOptions, 'scripts' | 'inlineScripts' | 'html' | 'bundleOptions' | 'label'> = {},
): Promise<BrowserPage> {
  const { base, label } = nextPageSlot(options.label);
  const server = await startHttpServer();
  try {
    await mountPage(server, base, label, options);
    const page = await openFirefoxUrl(firefox, server.url(base), label);
    return {
      ...page,
      close: async () => {
        await page.close();
        await server.close();
      },
    };
  } catch (e) {
    await server.close();
    throw e;
  }
}

/** Opens a tab on `url` (any page, e.g. one the collector serves), with the same page API. */
export async function openFirefoxUrl(firefox: Firefox, url: string, label = nextPageSlot().label): Promise<BrowserPage> {
  const errors: string[] = [];
  let context: string | undefined;
  // The tab is known before it loads: errors while it loads are kept too.
  firefox.on('log.entryAdded', (e: { level: string; text: string; source: { context?: string } }) => {
    if (context === undefined || e.source.context !== context || e.level !== 'error') return;
    errors.push(`console.error: ${e.text}`);
    console.error(`[${label} error] ${e.text}`);
  });
  const tab = await firefox.openTab(url, (created) => (context = created));
  return {
    url,
    errors,
    close: () => firefox.closeTab(tab),
    // As runInPage (./browser.ts): the function's source is evaluated in the page, the result
    // comes back through JSON.
    async run<R, A = undefined>(fn: (arg: A) => R | Promise<R>, arg?: A): Promise<Awaited<R>> {
      const expression =
        `(async () => { const f = (0, eval)(${JSON.stringify(`(${fn.toString()})`)}); ` +
        `const r = await f(${JSON.stringify(arg) ?? 'undefined'}); return r === undefined ? undefined : JSON.stringify(r); })()`;
      return (await firefox.evaluateJson(tab, expression, `page ${label}`)) as Awaited<R>;
    },
  };
}

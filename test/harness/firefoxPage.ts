// Browser tests in Firefox: the same page bundles and the same page API (`run`, `errors`) as
// ./browser.ts's openPage() for Chromium, on Debian's firefox-esr driven over WebDriver BiDi
// (./firefox.mjs). Inside the network namespace made by test/run.mjs only.
import { afterAll, beforeAll } from 'vitest';
import { mountPage, nextPageSlot, requireNamespace, startHttpServer, type BrowserPage, type OpenPageOptions } from './browser';
import { launchFirefox, type Firefox } from './firefox.mjs';

export type { Firefox };

/** vitest helper: launches Firefox in beforeAll, closes it in afterAll; returns a getter. */
export function useFirefox(): () => Firefox {
  let firefox: Firefox | undefined;
  beforeAll(async () => {
    requireNamespace();
    firefox = await launchFirefox();
  }, 60_000);
  afterAll(async () => {
    await firefox?.close();
    firefox = undefined;
  });
  return () => {
    if (!firefox) throw new Error('useFirefox(): Firefox not launched yet (use it inside tests/hooks)');
    return firefox;
  };
}

/** BiDi's answer to script.evaluate. */
interface EvaluateResult {
  type: 'success' | 'exception';
  result?: { type: string; value?: unknown };
  exceptionDetails?: { text: string };
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
  const { context } = (await firefox.send('browsingContext.create', { type: 'tab' })) as { context: string };
  const errors: string[] = [];
  firefox.on('log.entryAdded', (e: { level: string; text: string; source: { context?: string } }) => {
    if (e.source.context !== context || e.level !== 'error') return;
    errors.push(`console.error: ${e.text}`);
    console.error(`[${label} error] ${e.text}`);
  });
  const close = async (): Promise<void> => {
    await firefox.send('browsingContext.close', { context }).catch(() => undefined);
  };
  try {
    await firefox.send('browsingContext.navigate', { context, url, wait: 'complete' });
  } catch (e) {
    await close();
    throw e;
  }
  return {
    url,
    errors,
    close,
    // As runInPage (./browser.ts): the function's source is evaluated in the page, the result
    // comes back through JSON.
    async run<R, A = undefined>(fn: (arg: A) => R | Promise<R>, arg?: A): Promise<Awaited<R>> {
      const expression =
        `(async () => { const f = (0, eval)(${JSON.stringify(`(${fn.toString()})`)}); ` +
        `const r = await f(${JSON.stringify(arg) ?? 'undefined'}); return r === undefined ? undefined : JSON.stringify(r); })()`;
      const r = (await firefox.send('script.evaluate', { expression, target: { context }, awaitPromise: true })) as EvaluateResult;
      if (r.type === 'exception') throw new Error(`in Firefox page ${label}: ${r.exceptionDetails?.text ?? 'exception'}`);
      const json = r.result?.type === 'string' ? (r.result.value as string) : undefined;
      return (json === undefined ? undefined : JSON.parse(json)) as Awaited<R>;
    },
  };
}

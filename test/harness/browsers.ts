// The browsers a test runs the same pages in: Chromium (playwright, ./browser.ts) and Firefox ESR
// (WebDriver BiDi, ./firefoxPage.ts), each launched once per test file.
import { openPage, useBrowser, type BrowserPage, type OpenPageOptions } from './browser';
import { openFirefoxPage, useFirefox } from './firefoxPage';

export interface BrowserUnderTest {
  name: 'Chromium' | 'Firefox';
  /** Opens a page with these bundles and scripts (closed by the test). */
  open(options: Pick<OpenPageOptions, 'scripts' | 'inlineScripts' | 'html' | 'label'>): Promise<BrowserPage>;
}

/** vitest helper: launches Chromium and Firefox in beforeAll, closes them in afterAll. */
export function useEveryBrowser(): BrowserUnderTest[] {
  const chromium = useBrowser();
  const firefox = useFirefox();
  return [
    { name: 'Chromium', open: (options) => openPage(chromium(), options) },
    { name: 'Firefox', open: (options) => openFirefoxPage(firefox(), options) },
  ];
}

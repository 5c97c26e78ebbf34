// The dashboard in real Chromium, as the user of a self-hosted collector meets it: data that any
// SDK client holding a token can send (HTML, scripts, javascript: URLs, 100 KB strings, RTL
// overrides, newlines), sign-in failures (wrong secret, unknown app, the failed-authentication
// limit's 429, the collector down or restarted with other apps), empty states, and a conference
// with 300 streams. No timed assertions: waits are bounded, times are only printed.
import { afterEach, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { useBrowser } from '../../../test/harness/browser';
import { startCollector, type Collector } from '../src/index';
import { basic, errorItem, eventItem, fabricItem, feedbackItem, getToken, ingestHttp, statsItem, T0 } from './helpers';

const browser = useBrowser();
const APP = { appID: 'dash-app', secret: 'dash-secret-0123456789' };
const silent = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

// Every payload would set window.__pwned (and open a dialog) if it ever ran.
const IMG = `<img src=x onerror="window.__pwned='img';alert('img')">`;
const SCRIPT = `</script><script>window.__pwned='script';alert('script')</script>`;
const JS_URL = `javascript:window.__pwned='url';alert('url')//`;
const SVG = `<svg/onload="window.__pwned='svg'">`;
/** An RTL override, an isolate closer (to escape an isolate around it), and another override. */
const RTL = '\u202Eevil\u2069\u202E';
const LONG = 'A'.repeat(100_000);

interface Dashboard {
  page: Page;
  context: BrowserContext;
  dialogs: string[];
  errors: string[];
  close(): Promise<void>;
}

const open: Dashboard[] = [];
const collectors: Collector[] = [];
afterEach(async () => {
  for (const d of open.splice(0)) await d.close();
  for (const c of collectors.splice(0)) await c.close();
});

async function startTestCollector(options: Partial<Parameters<typeof startCollector>[0]> = {}): Promise<Collector & { base: string }> {
  const c = await startCollector({ apps: [APP], port: 0, db: ':memory:', logger: silent, ...options });
  collectors.push(c);
  return Object.assign(c, { base: c.url.replace(/\/$/, '') });
}

/**
 * The dashboard in a fresh context. `bypassCSP`: without the collector's Content-Security-Policy,
 * so that markup injected by the dashboard's own code would really run (the CSP must not be what
 * keeps hostile data inert: a proxy may drop the header).
 */
async function openDashboard(url: string, options: { bypassCSP?: boolean } = {}): Promise<Dashboard> {
  const context = await browser().newContext({ viewport: { width: 1280, height: 900 }, bypassCSP: options.bypassCSP ?? false });
  const page = await context.newPage();
  const dialogs: string[] = [];
  const errors: string[] = [];
  page.on('dialog', (d) => {
    dialogs.push(`${d.type()}: ${d.message()}`);
    void d.dismiss().catch(() => undefined);
  });
  page.on('pageerror', (e) => errors.push(e.stack ?? e.message));
  page.on('crash', () => errors.push('page crashed'));
  await page.goto(url);
  const d: Dashboard = { page, context, dialogs, errors, close: () => context.close() };
  open.push(d);
  return d;
}

async function submitSignIn(page: Page, app: { appID: string; secret: string }): Promise<void> {
  await page.locator('#login-app').fill(app.appID);
  await page.locator('#login-secret').fill(app.secret);
  await page.locator('form.login button[type=submit]').click();
}

async function signIn(page: Page, app: { appID: string; secret: string } = APP): Promise<void> {
  await submitSignIn(page, app);
  await page.locator('h1', { hasText: 'Conferences' }).waitFor();
}

/** Text the user reads in the login form's status line, once it says something. */
async function loginStatus(page: Page): Promise<string> {
  await page.waitForFunction(() => (document.querySelector('.form-error')?.textContent ?? '') !== '');
  return (await page.locator('.form-error').textContent()) ?? '';
}

/** Waits until every chart canvas of the page has its chart.js chart. */
async function chartsDrawn(page: Page): Promise<number> {
  await page.waitForFunction(() => {
    const canvases = [...document.querySelectorAll('canvas')];
    const Chart = (window as unknown as { Chart?: { getChart(c: HTMLCanvasElement): unknown } }).Chart;
    return canvases.length > 0 && !!Chart && canvases.every((c) => Chart.getChart(c));
  });
  return page.locator('canvas').count();
}

/** What a hostile payload would leave behind if any of it ran or became markup. */
async function injectionTraces(page: Page) {
  return page.evaluate(() => ({
    pwned: (window as unknown as { __pwned?: unknown }).__pwned ?? null,
    imgs: document.querySelectorAll('img, svg, iframe, object, embed').length,
    scripts: document.querySelectorAll('script').length,
    handlers: [...document.querySelectorAll('*')].filter((el) => [...el.attributes].some((a) => a.name.startsWith('on'))).length,
    unsafeLinks: [...document.querySelectorAll('a[href]')].map((a) => a.getAttribute('href')!).filter((h) => !h.startsWith('#')),
    // The page never grows sideways: long strings wrap, clip or scroll inside their card.
    overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
  }));
}

const CLEAN = { pwned: null, imgs: 0, scripts: 2, handlers: 0, unsafeLinks: [], overflow: 0 };

describe('dashboard in Chromium', () => {
  it('renders hostile client data as inert, contained text', async () => {
    const c = await startTestCollector();
    // Conference, user, fabric and stream IDs (<= 256 chars, no control characters), names
    // (<= 128), and free text (messages 64 KiB, SDPs, comments, data values: newlines allowed).
    const conf = `${IMG}${RTL}`;
    const longConf = `${'x'.repeat(200)}${JS_URL}`.slice(0, 256);
    const user = `${SCRIPT}${SVG}`;
    const fabric = JS_URL;
    const local = `${RTL}alice${IMG}`;
    const events = Array.from({ length: 300 }, (_, i) => eventItem(20 + i, conf, fabric, i % 2 ? 'audioUnmute' : 'audioMute', { i, note: `${IMG}\n${SVG}` }));
    const items = [
      fabricItem(1, conf, fabric, local, 'bob', { attributes: { html: IMG, long: LONG, url: JS_URL } }),
      eventItem(2, conf, fabric, 'fabricSetup', { setupDelay: 120 }),
      eventItem(3, conf, fabric, IMG, { html: IMG, long: LONG, lines: 'one\ntwo\nthree\nfour\nfive\nsix\nseven\neight' }),
      eventItem(4, conf, undefined, SCRIPT.slice(0, 128), { a: `line1\nline2\n${IMG}` }),
      statsItem(5, conf, fabric, [{ key: IMG, ssrc: SVG, statsType: 'outbound-rtp', mediaType: 'audio', userID: local, usageLabel: IMG, bitrate: 50, rtt: 20, fractionLoss: 0.01, jitter: 3 }]),
      statsItem(6, conf, fabric, [{ key: IMG, bitrate: 60 }]),
      {
        ...errorItem(7, conf, fabric, IMG.slice(0, 128), `${IMG}\n${SCRIPT}\n${LONG.slice(0, 60_000)}`),
        category: SVG,
        name: SCRIPT.slice(0, 128),
        localSDP: `v=0\r\n${IMG}\r\n${LONG}`,
        remoteSDP: LONG,
      },
      feedbackItem(8, conf, local, 2, `${IMG}${RTL}${'W'.repeat(9_000)}`),
      { n: 9, t: T0 + 9_000, kind: 'custom', conferenceID: conf, name: IMG.slice(0, 128), data: { [IMG]: LONG, url: JS_URL } },
      ...events,
    ];
    const r1 = await ingestHttp(c, await getToken(c, APP, user), { sid: 'sid-hostile', items });
    expect(r1.status).toBe(200);
    const r2 = await ingestHttp(c, await getToken(c, APP, 'y'.repeat(256)), {
      sid: 'sid-long',
      items: [fabricItem(1, longConf, 'f'.repeat(256), 'u'.repeat(256), 'v'.repeat(256)), eventItem(2, longConf, 'f'.repeat(256), 'fabricSetup', { setupDelay: 5 })],
    });
    expect(r2.status).toBe(200);

    const d = await openDashboard(c.url, { bypassCSP: true });
    await signIn(d.page);
    await d.page.locator('tr.clickable').nth(1).waitFor();
    expect(await injectionTraces(d.page)).toEqual(CLEAN);
    expect(d.dialogs).toEqual([]);
    expect(await d.page.locator('table.data').innerText()).toContain('<img src=x onerror=');
    // The columns after a 256-character ID are still on screen.
    const started = await d.page.locator('th', { hasText: 'Started' }).boundingBox();
    expect(started!.x + started!.width).toBeLessThan(1280);

    // The hostile conference: every section, the event list opened, every long text expanded.
    await d.page.locator('tr.clickable', { hasText: 'onerror' }).click();
    await d.page.locator('.lane').first().waitFor();
    expect(await d.page.locator('h1').innerText()).toContain(IMG);
    await d.page.locator('details.events summary').click();
    await d.page.locator('details.events tbody tr').first().waitFor();
    // 302 fabric events (setup, the hostile one, 300 mutes), 1 conference event, 1 error.
    expect(await d.page.locator('details.events tbody tr').count()).toBe(304);
    await chartsDrawn(d.page);
    expect(await injectionTraces(d.page)).toEqual(CLEAN);
    const more = d.page.locator('button.more');
    expect(await more.count()).toBeGreaterThanOrEqual(5);
    while (await more.count()) await more.first().click();
    const longest = await d.page.evaluate(() => Math.max(...[...document.querySelectorAll('.text.full')].map((e) => e.textContent!.length)));
    expect(longest).toBeGreaterThan(100_000); // the whole value is there once asked for
    expect(await injectionTraces(d.page)).toEqual(CLEAN);
    const text = await d.page.locator('#view').innerText();
    for (const s of ['<img src=x onerror=', '</script><script>', '<svg/onload=', 'javascript:window.__pwned']) expect(text).toContain(s);

    // The RTL override stays inside the user ID: "bob", after the arrow, is still drawn right of it
    // (the ID's own U+2069 must not close its isolate early and let the next U+202E reverse the rest).
    const bidi = await d.page.evaluate(() => {
      const title = document.querySelector('.lane-title')!;
      const node = [...title.childNodes].find((n) => n.nodeType === Node.TEXT_NODE) as Text;
      const box = (from: number, len: number) => {
        const r = document.createRange();
        r.setStart(node, from);
        r.setEnd(node, from + len);
        return r.getBoundingClientRect();
      };
      const arrow = box(node.data.indexOf('→'), 1);
      const bob = box(node.data.lastIndexOf('bob'), 3);
      return { arrowRight: arrow.right, bobLeft: bob.left, top: [arrow.top, bob.top] };
    });
    expect(bidi.top[0]).toBe(bidi.top[1]);
    expect(bidi.bobLeft).toBeGreaterThanOrEqual(bidi.arrowRight - 1);

    // 256-character IDs everywhere: nothing widens the page.
    await d.page.goto(`${c.url}#/conference/${encodeURIComponent(longConf)}`);
    await d.page.locator('h1', { hasText: 'xxxx' }).waitFor();
    expect((await d.page.locator('h1').innerText()).replace(/[\u2066-\u2069]/g, '')).toBe(longConf);
    expect(await injectionTraces(d.page)).toEqual(CLEAN);

    expect(d.dialogs).toEqual([]);
    expect(d.errors).toEqual([]);
  });

  it('sign-in failures read clearly: wrong secret, unknown app, the 429 limit', async () => {
    // The collector's default limit: 20 failed authentications per address per minute.
    const c = await startTestCollector();
    const d = await openDashboard(c.url);
    await submitSignIn(d.page, { appID: APP.appID, secret: 'not-the-secret' });
    expect(await loginStatus(d.page)).toBe('Unknown app or wrong secret.');
    await submitSignIn(d.page, { appID: 'no-such-app', secret: APP.secret });
    await d.page.waitForFunction(() => !document.querySelector<HTMLButtonElement>('form.login button')!.disabled);
    expect(await loginStatus(d.page)).toBe('Unknown app or wrong secret.');

    // 18 more wrong guesses from the same address (127.0.0.1) make 20: the address is blocked,
    // right credentials included, until the minute ends.
    for (let i = 0; i < 18; i++) {
      const res = await fetch(`${c.base}/v1/apps/${APP.appID}/conferences`, { headers: basic({ appID: APP.appID, secret: `guess-${i}` }) });
      expect(res.status).toBe(401);
    }
    await submitSignIn(d.page, APP);
    await d.page.waitForFunction(() => /too many/i.test(document.querySelector('.form-error')?.textContent ?? ''));
    const message = await loginStatus(d.page);
    expect(message).toMatch(/^Too many failed sign-ins from this address; try again in \d+ s\.$/);
    const seconds = Number(/in (\d+) s/.exec(message)![1]);
    expect(seconds).toBeGreaterThanOrEqual(1);
    expect(seconds).toBeLessThanOrEqual(60);
    // Still the form, ready for another try; not signed in.
    expect(await d.page.locator('#login-secret').isVisible()).toBe(true);
    expect(await d.page.locator('#session').isHidden()).toBe(true);
    expect(d.errors).toEqual([]);
  });

  it('the collector down, then restarted with another secret: a clear message, then the sign-in form', async () => {
    let c = await startTestCollector();
    const port = c.port;
    const d = await openDashboard(c.url);
    await signIn(d.page);
    // An app with no conferences.
    expect(await d.page.locator('.empty').innerText()).toContain('No conferences yet.');

    await c.close();
    collectors.splice(collectors.indexOf(c), 1);
    await d.page.locator('button', { hasText: 'Refresh' }).click();
    await d.page.locator('.error-card h2').waitFor();
    expect(await d.page.locator('.error-card h2').innerText()).toBe('Collector unreachable');
    expect(await d.page.locator('.error-card').innerText()).toContain('Cannot reach the collector');

    c = await startTestCollector({ port, apps: [{ appID: APP.appID, secret: 'rotated-secret-0123' }] });
    await d.page.locator('button', { hasText: 'Try again' }).click();
    await d.page.locator('#login-secret').waitFor();
    expect(await loginStatus(d.page)).toContain('Your credentials were refused');
    await signIn(d.page, { appID: APP.appID, secret: 'rotated-secret-0123' });
    expect(d.errors).toEqual([]);
  });

  it('empty states: fabrics without stats, stats without events', async () => {
    const c = await startTestCollector();
    const token = await getToken(c, APP, 'alice');
    const r1 = await ingestHttp(c, token, {
      sid: 'sid-1',
      items: [fabricItem(1, 'no-stats', 'f1', 'alice', 'bob'), eventItem(2, 'no-stats', 'f1', 'fabricSetup', { setupDelay: 80 })],
    });
    const streams = (bitrate: number) => [{ key: 'outbound-rtp:1', ssrc: '1', statsType: 'outbound-rtp', mediaType: 'audio', bitrate, fractionLoss: 0, rtt: 30, jitter: 2 }];
    const r2 = await ingestHttp(c, token, {
      sid: 'sid-2',
      items: [fabricItem(1, 'no-events', 'f2', 'alice', 'carol'), statsItem(2, 'no-events', 'f2', streams(40)), statsItem(3, 'no-events', 'f2', [{ key: 'outbound-rtp:1', bitrate: 42 }])],
    });
    expect([r1.status, r2.status]).toEqual([200, 200]);

    const d = await openDashboard(c.url);
    await signIn(d.page);
    await d.page.goto(`${c.url}#/conference/no-stats`);
    await d.page.locator('h1', { hasText: 'no-stats' }).waitFor();
    expect(await d.page.locator('#view').innerText()).toContain('No stats were received for this conference.');
    expect(await d.page.locator('canvas').count()).toBe(0);

    await d.page.goto(`${c.url}#/conference/no-events`);
    await d.page.locator('h1', { hasText: 'no-events' }).waitFor();
    expect(await chartsDrawn(d.page)).toBe(4);
    await d.page.locator('details.events summary').click();
    expect(await d.page.locator('details.events').innerText()).toContain('No events, errors or state changes were received.');
    expect(await injectionTraces(d.page)).toEqual(CLEAN);
    expect(d.errors).toEqual([]);
  });

  it('an answer that arrives after the user moved on does not replace the page', async () => {
    const c = await startTestCollector();
    const token = await getToken(c, APP, 'alice');
    expect((await ingestHttp(c, token, { sid: 'sid-1', items: [fabricItem(1, 'slow-one', 'f1', 'alice', 'bob')] })).status).toBe(200);
    const d = await openDashboard(c.url);
    await signIn(d.page);
    // The conference's answer is held back (a big conference takes the collector seconds).
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    await d.page.route(/\/conferences\/slow-one/, async (route) => {
      await held;
      await route.continue();
    });
    await d.page.locator('tr.clickable', { hasText: 'slow-one' }).click();
    await d.page.locator('.loading').waitFor(); // not the old list without a sign of life
    await d.page.locator('a.brand').click(); // back to the list before the answer
    await d.page.locator('h1', { hasText: 'Conferences' }).waitFor();
    const answered = d.page.waitForEvent('requestfinished', (r) => r.url().includes('/conferences/slow-one'));
    release();
    await answered;
    await d.page.evaluate(() => new Promise((r) => setTimeout(r, 200))); // let the page handle it
    expect(await d.page.locator('h1').innerText()).toBe('Conferences');
    expect(await d.page.evaluate(() => location.hash)).toBe('#/');
    expect(d.errors).toEqual([]);
  });

  it('a time window shows that part of a long conference at full resolution (?from&to), and back to the whole', async () => {
    const c = await startTestCollector();
    const token = await getToken(c, APP, 'alice');
    const sid = 'sid-window';
    // 20 minutes at 1 s: the whole conference is averaged to 1000 points per stream.
    const items: unknown[] = [fabricItem(1, 'long-call', 'f1', 'alice', 'bob')];
    for (let n = 2; n <= 1201; n++) items.push(statsItem(n, 'long-call', 'f1', [{ key: 'inbound-rtp:7', ssrc: '7', statsType: 'inbound-rtp', mediaType: 'audio', bitrate: n, rtt: 30, jitter: 2, fractionLoss: 0 }]));
    for (let i = 0; i < items.length; i += 500) expect((await ingestHttp(c, token, { sid, items: items.slice(i, i + 500) })).status).toBe(200);
    const d = await openDashboard(c.url);
    await signIn(d.page);
    await d.page.locator('tr.clickable', { hasText: 'long-call' }).click();
    expect(await chartsDrawn(d.page)).toBe(4);
    const points = () =>
      d.page.evaluate(() => {
        const Chart = (window as unknown as { Chart: { getChart(c: HTMLCanvasElement): { data: { datasets: { data: unknown[] }[] } } } }).Chart;
        return Chart.getChart(document.querySelector('canvas')!)!.data.datasets[0]!.data.length;
      });
    expect(await points()).toBe(1000);

    await d.page.locator('#window-from').fill('5');
    await d.page.locator('#window-to').fill('10');
    await d.page.locator('form.window-form button[type=submit]').click();
    await d.page.waitForFunction(() => /\?from=\d+&to=\d+$/.test(location.hash));
    expect(await chartsDrawn(d.page)).toBe(4);
    await d.page.locator('a.window-whole').waitFor();
    expect(await points()).toBe(300); // minutes 5..10, every sample
    expect(await d.page.locator('#window-from').inputValue()).toBe('5');

    // An end before the start is refused in the form, without a request.
    await d.page.locator('#window-to').fill('2');
    await d.page.locator('form.window-form button[type=submit]').click();
    expect(await d.page.locator('form.window-form .form-error').innerText()).toContain('The end must be after the start');

    await d.page.locator('a.window-whole').click();
    await d.page.waitForFunction(() => !location.hash.includes('?'));
    // The window's page (and its charts) goes first: hashchange comes after the hash, so counting
    // charts right away could count the window's, about to be replaced.
    await d.page.locator('a.window-whole').waitFor({ state: 'detached' });
    expect(await chartsDrawn(d.page)).toBe(4);
    expect(await points()).toBe(1000);
    expect(d.errors).toEqual([]);
  });

  it('a conference of 50 fabrics x 6 streams, downsampled: charts drawn, one fabric at a time', async () => {
    const c = await startTestCollector();
    const FABRICS = 50;
    const SECONDS = 1_100; // over the query API's default maxPoints (1000): series are averaged
    const seedStart = Date.now();
    for (let f = 0; f < FABRICS; f++) {
      const fabricID = `fabric-${f}`;
      const ctx = { appID: APP.appID, userID: `user-${f}`, sid: `sid-${f}`, receivedAt: Date.now() };
      // Storage items (already validated form: streams as {key, fields}).
      let batch: Parameters<typeof c.storage.ingest>[1][number][] = [
        { n: 1, t: T0, kind: 'fabric', conferenceID: 'big', fabricID, localUserID: `user-${f}`, remoteUserID: 'sfu', fabricUsage: 'multiplex', remoteEndpointType: 'server', direction: 'sendrecv' },
        { n: 2, t: T0 + 500, kind: 'event', conferenceID: 'big', fabricID, event: 'fabricSetup', data: { setupDelay: 300 + f } },
      ];
      for (let s = 0; s < SECONDS; s++) {
        const streams = Array.from({ length: 6 }, (_, k) => ({
          key: `${k < 3 ? 'outbound' : 'inbound'}-rtp:${f * 10 + k}`,
          fields: {
            ...(s === 0 ? { ssrc: String(f * 10 + k), statsType: k < 3 ? 'outbound-rtp' : 'inbound-rtp', mediaType: k % 3 ? 'video' : 'audio' } : {}),
            bitrate: 500 + 100 * Math.sin(s / 60 + k + f),
            fractionLoss: (s % 97) / 1000,
            rtt: 40 + (s % 13),
            jitter: 5 + (s % 7),
          },
        }));
        batch.push({ n: 3 + s, t: T0 + 1_000 + s * 1_000, kind: 'stats', conferenceID: 'big', fabricID, streams } as (typeof batch)[number]);
        if (batch.length === 500) {
          await c.storage.ingest(ctx, batch);
          batch = [];
        }
      }
      if (batch.length) await c.storage.ingest(ctx, batch);
    }
    const seeded = Date.now();

    const d = await openDashboard(c.url);
    await signIn(d.page);
    const clicked = Date.now();
    await d.page.locator('tr.clickable', { hasText: 'big' }).click();
    expect(await chartsDrawn(d.page)).toBe(4);
    console.log(`50 fabrics x 6 streams x ${SECONDS} s: seeded in ${seeded - seedStart} ms, detail shown with charts ${Date.now() - clicked} ms after the click`);
    // The page answers (no frozen main thread), 300 streams in the table, the legend left out.
    expect(await d.page.evaluate(() => document.querySelectorAll('td.stream-cell').length)).toBe(300);
    expect(await d.page.locator('.chart-note').innerText()).toContain('300 streams');
    const points = await d.page.evaluate(() => {
      const Chart = (window as unknown as { Chart: { getChart(c: HTMLCanvasElement): { data: { datasets: { data: unknown[] }[] }; options: { plugins: { legend: { display: boolean } } } } } }).Chart;
      const chart = Chart.getChart(document.querySelector('canvas')!)!;
      return { datasets: chart.data.datasets.length, maxPoints: Math.max(...chart.data.datasets.map((x) => x.data.length)), legend: chart.options.plugins.legend.display };
    });
    expect(points).toEqual({ datasets: 300, maxPoints: 1000, legend: false });

    // One fabric: its 6 streams, charts redrawn with a legend.
    const option = await d.page.evaluate(() =>
      [...document.querySelectorAll('#stream-filter option')].find((o) => o.textContent!.replace(/[\u2066-\u2069]/g, '') === 'user-7 → sfu (6)')?.getAttribute('value'),
    );
    await d.page.locator('#stream-filter').selectOption(option!);
    await d.page.waitForFunction(() => document.querySelectorAll('td.stream-cell').length === 6);
    await chartsDrawn(d.page);
    const legend = await d.page.evaluate(() => {
      const Chart = (window as unknown as { Chart: { getChart(c: HTMLCanvasElement): { data: { datasets: unknown[] }; options: { plugins: { legend: { display: boolean } } } } } }).Chart;
      const chart = Chart.getChart(document.querySelector('canvas')!)!;
      return { datasets: chart.data.datasets.length, legend: chart.options.plugins.legend.display };
    });
    expect(legend).toEqual({ datasets: 6, legend: true });
    expect(await injectionTraces(d.page)).toEqual(CLEAN);
    expect(d.errors).toEqual([]);
  });
});

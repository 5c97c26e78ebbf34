// End to end: a real monitored call in real Chromium (two RTCPeerConnections, fake devices) sends
// to the real collector over loopback; the query API and the dashboard show it.
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPage, REPO_ROOT, useBrowser, type TestPage } from '../../../test/harness/browser';
import { openFirefoxUrl, useFirefox } from '../../../test/harness/firefoxPage';
import { startCollector } from '../src/index';

const browser = useBrowser();
const firefox = useFirefox();
const LAB = new URL('../../core/test/pages/lab.page.ts', import.meta.url);
const APP = { appID: 'e2e-app', secret: 'e2e-secret' };
const basic = `Basic ${Buffer.from(`${APP.appID}:${APP.secret}`).toString('base64')}`;
const silent = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

interface PageCounts {
  events: string[];
  samples: number;
  init: { status: string; message?: string };
}

async function query<T>(base: string, path: string): Promise<T> {
  const res = await fetch(new URL(path, base), { headers: { authorization: basic } });
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** Starts a monitored call in the page; returns the pair id. Events and samples are counted in the page. */
async function startMonitoredCall(page: TestPage, collectorURL: string, conferenceID: string): Promise<number> {
  return page.run(
    async (a) => {
      const w = window as unknown as Record<string, unknown>;
      const counts = { events: [] as string[], samples: 0, init: { status: 'pending' } as { status: string; message?: string } };
      w.counts = counts;
      const monitor = window.core.createMonitor({
        appID: a.appID,
        appSecret: a.secret,
        localUserID: 'alice',
        collectorURL: a.collectorURL,
        statsIntervalMs: 1000,
        transport: { batchIntervalMs: 200, minBackoffMs: 200, maxBackoffMs: 1000 },
      });
      w.monitor = monitor;
      monitor.on('fabricEvent', (e) => counts.events.push(e.event));
      monitor.on('sample', () => void counts.samples++);
      counts.init = await monitor.ready;
      const id = await window.lab.createPair({ video: true });
      w.fabric = monitor.addFabric(window.lab.pcs(id).pc1, { remoteUserID: 'bob', conferenceID: a.conferenceID });
      await window.lab.negotiate(id);
      await window.lab.waitConnected(id);
      return id;
    },
    { ...APP, collectorURL, conferenceID },
  );
}

async function endCall(page: TestPage, id: number): Promise<PageCounts> {
  return page.run(async (pairId) => {
    const w = window as unknown as { monitor: import('../../core/src/types').Monitor; counts: PageCounts };
    window.lab.close(pairId);
    // close() terminates the fabric (if the poll has not already seen the pc closed) and flushes.
    await w.monitor.close();
    return w.counts;
  }, id);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('collector end to end in Chromium', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'callmetry-e2e-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a real monitored call reaches the collector: fabrics, events in order, errors, feedback and stats', async () => {
    const collector = await startCollector({ apps: [APP], port: 0, db: ':memory:', logger: silent, summaryDelayMs: 1000 });
    const page = await openPage(browser(), { scripts: [LAB] });
    try {
      const id = await startMonitoredCall(page, collector.url, 'e2e-call');
      await sleep(3500);
      await page.run(() => {
        const w = window as unknown as { monitor: import('../../core/src/types').Monitor; fabric: import('../../core/src/types').Fabric };
        w.fabric.sendEvent('audioMute');
        w.fabric.sendEvent('audioUnmute');
        w.fabric.reportError('setRemoteDescription', new DOMException('bad m-line', 'InvalidAccessError'), { remoteSDP: 'v=0 bad' });
        w.monitor.sendFeedback('e2e-call', { overall: 4, audio: 5, comment: 'clear' });
      });
      await sleep(1500);
      const counts = await endCall(page, id);
      expect(counts.init).toEqual({ status: 'success' });

      const list = await query<{ conferences: Array<{ conferenceID: string; participantCount: number; fabricCount: number }> }>(
        collector.url,
        `/v1/apps/${APP.appID}/conferences`,
      );
      expect(list.conferences).toEqual([expect.objectContaining({ conferenceID: 'e2e-call', participantCount: expect.any(Number), fabricCount: 1 })]);

      const detail = await query<{
        fabrics: Array<{ localUserID: string; remoteUserID: string; state: string; setupDelay: number | null; events: Array<{ event: string }> }>;
        errors: Array<{ fn: string; category: string; name: string | null; remoteSDP?: string }>;
        feedback: Array<{ rating: { overall: number; audio?: number }; comment: string | null }>;
        streams: Array<{ statsType: string | null; mediaType: string | null; userID: string | null; summary: { samples: number; bitrate: { avg: number | null } }; series: unknown[] }>;
      }>(collector.url, `/v1/apps/${APP.appID}/conferences/e2e-call`);

      expect(detail.fabrics).toHaveLength(1);
      const fabric = detail.fabrics[0]!;
      expect(fabric).toMatchObject({ localUserID: 'alice', remoteUserID: 'bob', state: 'terminated' });
      expect(fabric.setupDelay).toBeGreaterThan(0);
      // Exactly the events the page saw, in its order.
      expect(fabric.events.map((e) => e.event)).toEqual(counts.events);
      expect(counts.events).toEqual(
        expect.arrayContaining(['fabricSetup', 'audioMute', 'audioUnmute', 'fabricTerminated']),
      );
      expect(detail.errors).toEqual([
        expect.objectContaining({ fn: 'setRemoteDescription', category: 'negotiationFailure', name: 'InvalidAccessError', remoteSDP: 'v=0 bad' }),
      ]);
      expect(detail.feedback).toEqual([expect.objectContaining({ rating: { overall: 4, audio: 5 }, comment: 'clear' })]);

      const outboundVideo = detail.streams.find((s) => s.statsType === 'outbound-rtp' && s.mediaType === 'video');
      const outboundAudio = detail.streams.find((s) => s.statsType === 'outbound-rtp' && s.mediaType === 'audio');
      expect(outboundVideo?.userID).toBe('alice');
      expect(outboundAudio?.userID).toBe('alice');
      expect(outboundVideo!.summary.samples).toBe(counts.samples);
      expect(outboundVideo!.summary.bitrate.avg).toBeGreaterThan(10);
    } finally {
      await page.close();
      await collector.close();
    }
  });

  it('the collector stopped mid-call and restarted: every event and sample arrives exactly once', async () => {
    const db = join(dir, 'restart.sqlite');
    let collector = await startCollector({ apps: [APP], port: 0, db, logger: silent });
    const port = collector.port;
    // The page logs refused connections while the collector is down: expected, so not printed.
    const page = await openPage(browser(), { scripts: [LAB], console: 'none' });
    try {
      const id = await startMonitoredCall(page, collector.url, 'restart-call');
      await sleep(2500);
      await collector.close();
      // While the collector is down: events and samples go to the SDK's buffer.
      await page.run(() => {
        const w = window as unknown as { fabric: import('../../core/src/types').Fabric };
        w.fabric.sendEvent('videoPause');
      });
      await sleep(3000);
      await page.run(() => {
        const w = window as unknown as { fabric: import('../../core/src/types').Fabric };
        w.fabric.sendEvent('videoResume');
      });
      collector = await startCollector({ apps: [APP], port, db, logger: silent });
      await sleep(3000);
      const counts = await endCall(page, id);
      const status = await page.run(() => (window as unknown as { monitor: import('../../core/src/types').Monitor }).monitor.transportStatus());
      expect(status.droppedSamples).toBe(0);

      const detail = await query<{
        fabrics: Array<{ events: Array<{ event: string }> }>;
        streams: Array<{ statsType: string | null; mediaType: string | null; summary: { samples: number } }>;
        dropped: unknown[];
      }>(collector.url, `/v1/apps/${APP.appID}/conferences/restart-call`);
      expect(detail.fabrics).toHaveLength(1);
      expect(detail.fabrics[0]!.events.map((e) => e.event)).toEqual(counts.events);
      expect(counts.events).toEqual(expect.arrayContaining(['videoPause', 'videoResume', 'fabricTerminated']));
      const video = detail.streams.find((s) => s.statsType === 'outbound-rtp' && s.mediaType === 'video');
      expect(counts.samples).toBeGreaterThanOrEqual(7);
      expect(video?.summary.samples).toBe(counts.samples);
      expect(detail.dropped).toEqual([]);
    } finally {
      await page.close();
      await collector.close();
    }
  });

  it('the dashboard shows the conference with its timeline and charts (screenshot; and in Firefox ESR)', async () => {
    const collector = await startCollector({ apps: [APP], port: 0, db: ':memory:', logger: silent });
    const page = await openPage(browser(), { scripts: [LAB] });
    const dashboard = await browser().newPage({ viewport: { width: 1280, height: 1400 } });
    try {
      const id = await startMonitoredCall(page, collector.url, 'dashboard-call');
      await sleep(5000);
      await page.run(() => {
        const w = window as unknown as { fabric: import('../../core/src/types').Fabric };
        w.fabric.sendEvent('fabricHold');
        w.fabric.sendEvent('fabricResume');
      });
      await sleep(2000);
      await endCall(page, id);

      await dashboard.goto(collector.url);
      await dashboard.evaluate((app) => {
        sessionStorage.setItem('callmetry.appID', app.appID);
        sessionStorage.setItem('callmetry.secret', app.secret);
      }, APP);
      await dashboard.goto(collector.url);
      // Log in through the form when the stored credentials are not picked up.
      if (await dashboard.locator('input[type=password]').count()) {
        await dashboard.locator('input').first().fill(APP.appID);
        await dashboard.locator('input[type=password]').fill(APP.secret);
        await dashboard.locator('button[type=submit], form button').first().click();
      }
      await dashboard.getByText('dashboard-call').first().click();
      await dashboard.waitForSelector('canvas', { timeout: 10_000 });
      await sleep(1000);
      const canvases = await dashboard.locator('canvas').count();
      expect(canvases).toBeGreaterThanOrEqual(4);
      const text = await dashboard.locator('body').innerText();
      expect(text).toContain('alice');
      expect(text).toContain('bob');
      mkdirSync(join(REPO_ROOT, '.test-artifacts'), { recursive: true });
      await dashboard.screenshot({ path: join(REPO_ROOT, '.test-artifacts', 'dashboard-conference.png'), fullPage: true });

      // The same dashboard in Firefox ESR: sign in through the form, open the conference, charts drawn.
      const ff = await openFirefoxUrl(firefox(), collector.url, 'dashboard-firefox');
      try {
        const shown = await ff.run(async (app) => {
          const until = async (what: string, ok: () => boolean): Promise<void> => {
            for (const end = Date.now() + 10_000; !ok(); await new Promise((r) => setTimeout(r, 100))) {
              if (Date.now() > end) throw new Error(`dashboard in Firefox: no ${what} within 10 s`);
            }
          };
          await until('login form', () => !!document.getElementById('login-secret'));
          (document.getElementById('login-app') as HTMLInputElement).value = app.appID;
          (document.getElementById('login-secret') as HTMLInputElement).value = app.secret;
          document.querySelector<HTMLFormElement>('form.login')!.requestSubmit();
          const row = () => [...document.querySelectorAll('tr.clickable')].find((r) => r.textContent?.includes('dashboard-call')) as HTMLElement | undefined;
          await until('conference row', () => !!row());
          row()!.click();
          await until('four charts', () => document.querySelectorAll('canvas').length >= 4);
          return { canvases: document.querySelectorAll('canvas').length, text: document.body.innerText };
        }, APP);
        expect(shown.canvases).toBeGreaterThanOrEqual(4);
        expect(shown.text).toContain('alice');
        expect(shown.text).toContain('bob');
        expect(ff.errors).toEqual([]);
      } finally {
        await ff.close();
      }
    } finally {
      await dashboard.close();
      await page.close();
      await collector.close();
    }
  });
});

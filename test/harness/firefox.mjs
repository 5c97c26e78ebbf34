// Debian's Firefox ESR driven over WebDriver BiDi (its built-in remote agent), with the `ws` client
// the collector already depends on: no browser-automation package. Plain ESM, so that the stats
// recorder (plain node) and the browser tests (vitest, through ./firefoxPage.ts) share it.
//
// Prefs: fake camera and microphone, no permission prompt, ICE on loopback, and camera/microphone
// allowed by default. The last matters: without a capture permission Firefox gathers only its
// "default address" (the source of a route to the internet), which a namespace without a route
// lacks, so no candidate at all.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';

export const FIREFOX_PATH = '/usr/bin/firefox-esr';

const PREFS = {
  'media.navigator.streams.fake': true,
  'media.navigator.permission.disabled': true,
  'permissions.default.camera': 1,
  'permissions.default.microphone': 1,
  'media.peerconnection.ice.loopback': true,
  'media.peerconnection.ice.obfuscate_host_addresses': false,
  'media.autoplay.default': 0,
  'browser.shell.checkDefaultBrowser': false,
  'datareporting.policy.dataSubmissionEnabled': false,
  'toolkit.telemetry.reportingpolicy.firstRun': false,
  'app.update.disabledForTesting': true,
  'network.captive-portal-service.enabled': false,
  'browser.safebrowsing.update.enabled': false,
};

/**
 * Starts headless Firefox on a fresh profile and opens a BiDi session; resolves
 * `{ version, send(method, params), on(method, listener), close() }`. Throws a clear error when
 * firefox-esr is missing or does not come up within 30 s.
 */
export async function launchFirefox() {
  if (!existsSync(FIREFOX_PATH)) throw new Error(`${FIREFOX_PATH} is missing: apt-get install -y firefox-esr (tests never skip).`);
  const profile = mkdtempSync(join(tmpdir(), 'callmetry-ff-'));
  writeFileSync(join(profile, 'user.js'), Object.entries(PREFS).map(([k, v]) => `user_pref(${JSON.stringify(k)}, ${JSON.stringify(v)});`).join('\n'));
  const ff = spawn(FIREFOX_PATH, ['--headless', '--no-remote', '--profile', profile, '--remote-debugging-port', '0', 'about:blank'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const removeProfile = () => rmSync(profile, { recursive: true, force: true });
  let ws;
  try {
    const wsUrl = await new Promise((ok, ko) => {
      let out = '';
      const timer = setTimeout(() => ko(new Error(`Firefox announced no BiDi endpoint in 30 s:\n${out}`)), 30_000);
      const onData = (d) => {
        out += d;
        const m = /WebDriver BiDi listening on (ws:\/\/\S+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          ok(m[1]);
        }
      };
      ff.stdout.on('data', onData);
      ff.stderr.on('data', onData);
      ff.once('exit', (code) => ko(new Error(`Firefox exited (${code}):\n${out}`)));
    });
    ws = new WebSocket(`${wsUrl}/session`);
    await new Promise((ok, ko) => {
      ws.once('open', ok);
      ws.once('error', ko);
    });
  } catch (e) {
    if (ff.exitCode === null) ff.kill();
    removeProfile();
    throw e;
  }
  let lastId = 0;
  const pending = new Map();
  const listeners = new Map();
  ws.on('message', (data) => {
    const m = JSON.parse(String(data));
    if (m.method) for (const l of listeners.get(m.method) ?? []) l(m.params);
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if (m.type === 'error') p.ko(new Error(`${m.error}: ${m.message}`));
    else p.ok(m.result);
  });
  ws.on('close', () => {
    for (const p of pending.values()) p.ko(new Error('Firefox BiDi connection closed'));
    pending.clear();
  });
  const send = (method, params) =>
    new Promise((ok, ko) => {
      const id = ++lastId;
      pending.set(id, { ok, ko });
      ws.send(JSON.stringify({ id, method, params }));
    });
  const on = (method, listener) => listeners.set(method, [...(listeners.get(method) ?? []), listener]);
  const { capabilities } = await send('session.new', { capabilities: {} });
  await send('session.subscribe', { events: ['log.entryAdded'] });
  const closeTab = (context) => send('browsingContext.close', { context }).then(() => undefined, () => undefined);
  return {
    version: String(capabilities.browserVersion),
    send,
    on,
    async openTab(url, onCreated) {
      const { context } = await send('browsingContext.create', { type: 'tab' });
      onCreated?.(context);
      try {
        await send('browsingContext.navigate', { context, url, wait: 'complete' });
      } catch (e) {
        await closeTab(context);
        throw e;
      }
      return context;
    },
    closeTab,
    async evaluateJson(context, expression, label = 'page') {
      const r = await send('script.evaluate', { expression, target: { context }, awaitPromise: true });
      if (r.type === 'exception') throw new Error(`in Firefox ${label}: ${r.exceptionDetails?.text ?? 'exception'}`);
      return r.result?.type === 'string' ? JSON.parse(r.result.value) : undefined;
    },
    async close() {
      await send('browser.close', {}).catch(() => undefined);
      ws.close();
      if (ff.exitCode === null) {
        const exited = new Promise((ok) => ff.once('exit', ok));
        ff.kill();
        await exited;
      }
      removeProfile();
    },
  };
}

// Real SIP over WebSocket through Kamailio (test/harness/kamailio.ts) between real Chromium pages
// running npm sip.js 0.21 and jssip 3.13: registration, answered calls with media, hold/unhold
// re-INVITEs, BYE, 486/603 rejects, 404 for unknown users, CANCEL and the proxy's 408 timeout,
// for SIP.js<->SIP.js, JsSIP<->JsSIP and both mixed directions.
// Run inside the test namespace: `node test/run.mjs test/servers/kamailio.browser.test.ts`.
// CALLMETRY_SIP_TRACE=1 prints every call's event trail (what the adapters can observe, in order).
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { TestPage } from '../harness/browser';
import { startKamailio, type KamailioServer } from '../harness/kamailio';
import { useKamailio } from '../harness/sipPages';
import type { CallEvent, CallRecord, IncomingPolicy, Lib, MediaSnapshot, UserConfig } from './kamailio/sip-page';

const PAGE = new URL('./kamailio/sip-page.ts', import.meta.url);
const PAIRS: Array<[Lib, Lib]> = [
  ['sipjs', 'sipjs'],
  ['jssip', 'jssip'],
  ['sipjs', 'jssip'],
  ['jssip', 'sipjs'],
];
const WAIT_MS = 20_000;
const TRACE = process.env.CALLMETRY_SIP_TRACE === '1';
/** JsSIP 3.13 `cause` for a final status (its Constants.SIP_ERROR_CAUSES). */
const JSSIP_CAUSE: Record<number, string> = { 404: 'Not Found', 408: 'Unavailable', 486: 'Busy', 603: 'Rejected' };

const { kamailio: server, openUser } = useKamailio();

class User {
  constructor(
    readonly tp: TestPage,
    readonly name: string,
    readonly lib: Lib,
    private readonly kamailio: () => KamailioServer,
  ) {}

  static async open(lib: Lib, name: string, kamailio: () => KamailioServer): Promise<User> {
    const { tp, account } = await openUser(PAGE, name, kamailio);
    const u = new User(tp, name, lib, kamailio);
    const cfg: UserConfig = { lib, ...account };
    await tp.run((c) => window.sipTest.start(c), cfg);
    return u;
  }

  setPolicy(p: IncomingPolicy): Promise<void> {
    return this.tp.run((x) => window.sipTest.setPolicy(x), p);
  }
  count(): Promise<number> {
    return this.tp.run(() => window.sipTest.calls.length);
  }
  call(target: string): Promise<number> {
    return this.tp.run((t) => window.sipTest.call(t), target);
  }
  hangup(status?: number): Promise<void> {
    return this.tp.run((s) => window.sipTest.hangup(s ?? undefined), status ?? null);
  }
  hold(on: boolean): Promise<boolean> {
    return this.tp.run((x) => window.sipTest.hold(x), on);
  }
  media(): Promise<MediaSnapshot> {
    return this.tp.run(() => window.sipTest.media());
  }
  record(index: number): Promise<CallRecord> {
    return this.tp.run((i) => {
      const r = window.sipTest.calls[i];
      if (!r) throw new Error(`no call ${i}`);
      return r;
    }, index);
  }
  async trace(index: number): Promise<string> {
    const r = await this.record(index).catch(() => undefined);
    if (!r) return `${this.name}: no call ${index}`;
    const ev = r.events.map((e) => {
      const { type, t, ...rest } = e;
      const extra = Object.entries(rest)
        .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
        .join(' ');
      return `  +${String(t).padStart(5)}ms ${type}${extra ? ` ${extra}` : ''}`;
    });
    return `${this.name} (${this.lib}, ${r.direction}, Call-ID ${r.callId}, remote ${r.remoteUri}):\n${ev.join('\n')}`;
  }

  /** Wait for the first event `type` of call `index`; on timeout fail with both traces and Kamailio's log. */
  async waitEvent(type: string, index: number, peers: Array<[User, number]> = []): Promise<CallEvent> {
    try {
      await this.tp.page.waitForFunction(
        ({ t, i }) => window.sipTest.find(t, i) !== undefined,
        { t: type, i: index },
        { timeout: WAIT_MS, polling: 50 },
      );
    } catch (e) {
      const traces = [await this.trace(index)];
      for (const [u, i] of peers) traces.push(await u.trace(i));
      throw new Error(
        `${this.name}: no '${type}' event on call ${index} (${String(e).split('\n')[0]})\n${traces.join('\n')}\n` +
          `page errors: ${JSON.stringify(this.tp.errors)}\n--- kamailio ---\n${this.kamailio().logTail(30)}`,
      );
    }
    const ev = await this.tp.run(({ t, i }) => window.sipTest.find(t, i), { t: type, i: index });
    if (!ev) throw new Error('event vanished');
    return ev;
  }

  async close(): Promise<void> {
    await this.tp.run(() => window.sipTest.stop()).catch(() => undefined);
    await this.tp.close();
  }
}

/** Poll `get` until `ok(value)`; fail with the last value. */
async function until<T>(what: string, get: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  const deadline = Date.now() + WAIT_MS;
  let last: T = await get();
  while (!ok(last)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 100));
    last = await get();
  }
  return last;
}

const flowing = (m: MediaSnapshot): boolean =>
  m.connectionState === 'connected' && (m.inboundPackets.audio ?? 0) > 0 && (m.inboundPackets.video ?? 0) > 0;
const directions = (m: MediaSnapshot): string[] => [...new Set(m.transceivers.map((t) => t.currentDirection ?? 'null'))];

async function printTrace(title: string, parts: Array<[User, number]>): Promise<void> {
  if (!TRACE) return;
  const lines = [`===== ${title}`];
  for (const [u, i] of parts) lines.push(await u.trace(i));
  console.log(lines.join('\n'));
}

/** Caller side: the final status and cause of a call that failed. */
async function expectCallerFailure(a: User, ai: number, b: User | undefined, bi: number, status: number): Promise<void> {
  const peers: Array<[User, number]> = b ? [[b, bi]] : [];
  const failed = await a.waitEvent('failed', ai, peers);
  if (a.lib === 'sipjs') {
    const rej = await a.waitEvent('sipjs:request:onReject', ai, peers);
    expect(rej.status).toBe(status);
  } else {
    expect(failed.status).toBe(status);
    expect(failed.originator).toBe('remote');
    expect(failed.cause).toBe(JSSIP_CAUSE[status]);
  }
}

describe.each(PAIRS)('Kamailio: %s calls %s', (aLib, bLib) => {
  let a: User;
  let b: User;
  const tag = `${aLib}-${bLib}`;

  beforeAll(async () => {
    [a, b] = await Promise.all([
      User.open(aLib, `alice-${tag}`, server),
      User.open(bLib, `bob-${tag}`, server),
    ]);
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
  });

  test('call answered: media flows, hold/unhold re-INVITEs, BYE ends both sides', async () => {
    await b.setPolicy({ action: 'answer' });
    const bi = await b.count();
    const ai = await a.call(b.name);
    await b.waitEvent('incoming', bi, [[a, ai]]);
    await a.waitEvent('confirmed', ai, [[b, bi]]);
    await b.waitEvent('confirmed', bi, [[a, ai]]);
    await a.waitEvent('pc', ai);
    await b.waitEvent('pc', bi);

    const [ma, mb] = await Promise.all([until(`${a.name} media`, () => a.media(), flowing), until(`${b.name} media`, () => b.media(), flowing)]);
    for (const m of [ma, mb]) {
      expect(m.candidateAddresses.length).toBeGreaterThan(0);
      expect(m.candidateAddresses.every((x) => x.startsWith('127.'))).toBe(true);
      expect(directions(m)).toEqual(['sendrecv']);
    }

    // Both libraries see the same Call-ID, and each other's identity.
    const [ra, rb] = await Promise.all([a.record(ai), b.record(bi)]);
    expect(ra.callId).toBeTruthy();
    expect(rb.callId).toBe(ra.callId);
    expect(ra.remoteUri).toBe(`sip:${b.name}@${server().domain}`);
    expect(rb.remoteUri).toBe(`sip:${a.name}@${server().domain}`);

    // Hold: a sends a re-INVITE offering sendonly; b answers recvonly.
    expect(await a.hold(true)).toBe(true);
    expect((await a.waitEvent('hold', ai)).originator).toBe('local');
    expect((await b.waitEvent('hold', bi, [[a, ai]])).originator).toBe('remote');
    expect(directions(await until(`${a.name} sendonly`, () => a.media(), (m) => directions(m).join() === 'sendonly'))).toEqual(['sendonly']);
    expect(directions(await until(`${b.name} recvonly`, () => b.media(), (m) => directions(m).join() === 'recvonly'))).toEqual(['recvonly']);

    // Unhold: back to sendrecv, and b receives media again.
    expect(await a.hold(false)).toBe(true);
    expect((await a.waitEvent('unhold', ai)).originator).toBe('local');
    expect((await b.waitEvent('unhold', bi, [[a, ai]])).originator).toBe('remote');
    const before = (await b.media()).inboundPackets.audio ?? 0;
    await until(`${a.name} sendrecv`, () => a.media(), (m) => directions(m).join() === 'sendrecv');
    await until(`${b.name} sendrecv + audio again`, () => b.media(), (m) => directions(m).join() === 'sendrecv' && (m.inboundPackets.audio ?? 0) > before);

    // BYE from a.
    await a.hangup();
    const ea = await a.waitEvent('ended', ai, [[b, bi]]);
    const eb = await b.waitEvent('ended', bi, [[a, ai]]);
    expect(ea.originator).toBe('local');
    expect(eb.originator).toBe('remote');
    if (b.lib === 'jssip') expect(eb.cause).toBe('Terminated');
    if (b.lib === 'sipjs') await b.waitEvent('sipjs:delegate:onBye', bi);
    await printTrace(`${tag}: answered, hold, unhold, BYE`, [[a, ai], [b, bi]]);
  });

  test.each([486, 603])('call rejected with %i reaches the caller', async (status) => {
    await b.setPolicy({ action: 'reject', status });
    const bi = await b.count();
    const ai = await a.call(b.name);
    await b.waitEvent('incoming', bi, [[a, ai]]);
    const fb = await b.waitEvent('failed', bi, [[a, ai]]);
    expect(fb.originator).toBe('local');
    await expectCallerFailure(a, ai, b, bi, status);
    await printTrace(`${tag}: rejected ${status}`, [[a, ai], [b, bi]]);
  });

  test('call to an unregistered user gets 404', async () => {
    const ai = await a.call(`nobody-${tag}`);
    await expectCallerFailure(a, ai, undefined, 0, 404);
    await printTrace(`${tag}: 404`, [[a, ai]]);
  });

  test('caller CANCELs a ringing call', async () => {
    await b.setPolicy({ action: 'ring' });
    const bi = await b.count();
    const ai = await a.call(b.name);
    await b.waitEvent('incoming', bi, [[a, ai]]);
    expect((await a.waitEvent('progress', ai, [[b, bi]])).status).toBe(180);
    await a.hangup();
    const fa = await a.waitEvent('failed', ai, [[b, bi]]);
    const fb = await b.waitEvent('failed', bi, [[a, ai]]);
    expect(fa.originator).toBe('local');
    expect(fb.originator).toBe('remote');
    if (a.lib === 'jssip') expect(fa.cause).toBe('Canceled');
    if (b.lib === 'jssip') expect(fb.cause).toBe('Canceled');
    if (b.lib === 'sipjs') await b.waitEvent('sipjs:delegate:onCancel', bi);
    if (a.lib === 'sipjs') expect((await a.waitEvent('sipjs:request:onReject', ai, [[b, bi]])).status).toBe(487);
    await printTrace(`${tag}: CANCEL`, [[a, ai], [b, bi]]);
  });
});

describe('Kamailio: proxy INVITE timeout (408) and the callee sees a CANCEL', () => {
  let kam408: KamailioServer | undefined;
  const users: User[] = [];
  beforeAll(async () => {
    kam408 = await startKamailio({ inviteTimeoutMs: 1500 });
  });
  afterAll(async () => {
    await Promise.all(users.map((u) => u.close()));
    await kam408?.stop();
  });
  const k408 = (): KamailioServer => {
    if (!kam408) throw new Error('kamailio (408) not started');
    return kam408;
  };

  test.each(PAIRS)('%s calls %s, nobody answers', async (aLib, bLib) => {
    const tag = `${aLib}-${bLib}`;
    const [a, b] = await Promise.all([User.open(aLib, `carol-${tag}`, k408), User.open(bLib, `dave-${tag}`, k408)]);
    users.push(a, b);
    await b.setPolicy({ action: 'ring' });
    const ai = await a.call(b.name);
    await b.waitEvent('incoming', 0, [[a, ai]]);
    await expectCallerFailure(a, ai, b, 0, 408);
    const fb = await b.waitEvent('failed', 0, [[a, ai]]);
    expect(fb.originator).toBe('remote');
    if (b.lib === 'jssip') expect(fb.cause).toBe('Canceled');
    if (b.lib === 'sipjs') await b.waitEvent('sipjs:delegate:onCancel', 0);
    await printTrace(`${tag}: 408 from the proxy`, [[a, ai], [b, 0]]);
  });
});

// test/harness/kamailio.ts without a browser: start/stop (the whole process group goes), two
// instances side by side, and the routing rules of test/servers/kamailio/kamailio.cfg.tmpl checked
// with plain SIP over UDP on 127.0.0.1 (REGISTER, 404 for unknown users, 180 relayed, 408 + CANCEL
// after the INVITE timeout, 486 relayed). Runs inside the test namespace (test/run.mjs).
import { createSocket, type Socket } from 'node:dgram';
import { existsSync, statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  findKamailio,
  kamailioGroupAlive,
  probeInstance,
  probeWebSocket,
  renderKamailioConfig,
  startKamailio,
  type KamailioServer,
} from '../harness/kamailio';

function requireNamespace(): void {
  const ns = process.env.CALLMETRY_NETNS;
  if (!ns) throw new Error('run inside the test network namespace: node test/run.mjs test/servers/kamailio.test.ts');
  const self = statSync('/proc/self/ns/net');
  const named = statSync(`/run/netns/${ns}`, { throwIfNoEntry: false });
  if (!named || named.ino !== self.ino || named.dev !== self.dev) throw new Error(`not inside namespace ${ns}`);
}

interface SipMsg {
  firstLine: string;
  status?: number;
  method?: string;
  headers: Map<string, string[]>;
  raw: string;
}

function parse(raw: string): SipMsg {
  const [head = ''] = raw.split('\r\n\r\n');
  const [firstLine = '', ...lines] = head.split('\r\n');
  const headers = new Map<string, string[]>();
  for (const l of lines) {
    const i = l.indexOf(':');
    if (i < 0) continue;
    const k = l.slice(0, i).trim().toLowerCase();
    headers.set(k, [...(headers.get(k) ?? []), l.slice(i + 1).trim()]);
  }
  const m = /^SIP\/2\.0 (\d{3})/.exec(firstLine);
  return m ? { firstLine, status: Number(m[1]), headers, raw } : { firstLine, method: firstLine.split(' ')[0], headers, raw };
}

/** A tiny UDP SIP endpoint: sends requests/responses, queues what it receives. */
class Endpoint {
  private queue: SipMsg[] = [];
  private waiters: Array<() => void> = [];
  private seq = 1;
  constructor(
    readonly sock: Socket,
    readonly port: number,
    readonly proxy: number,
  ) {
    sock.on('message', (b) => {
      this.queue.push(parse(b.toString('utf8')));
      for (const w of this.waiters.splice(0)) w();
    });
  }
  static async open(proxy: number): Promise<Endpoint> {
    const sock = createSocket('udp4');
    await new Promise<void>((ok) => sock.bind(0, '127.0.0.1', () => ok()));
    return new Endpoint(sock, sock.address().port, proxy);
  }
  send(text: string): void {
    this.sock.send(text, this.proxy, '127.0.0.1');
  }
  request(
    method: string,
    ruri: string,
    from: string,
    to: string,
    callId: string,
    extra: string[] = [],
    body = '',
    branch = `z9hG4bK-${Math.random().toString(36).slice(2)}`,
    cseq = this.seq++,
  ): string {
    const lines = [
      `${method} ${ruri} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${this.port};branch=${branch};rport`,
      'Max-Forwards: 70',
      `From: <${from}>;tag=${callId}-f`,
      to.startsWith('<') ? `To: ${to}` : `To: <${to}>`,
      `Call-ID: ${callId}`,
      `CSeq: ${cseq} ${method}`,
      ...extra,
      `Content-Length: ${Buffer.byteLength(body)}`,
      '',
      body,
    ];
    this.send(lines.join('\r\n'));
    return branch;
  }
  /** Reply to a request with `status`, copying the dialog headers. */
  reply(req: SipMsg, status: number, reason: string, toTag = 'callee'): void {
    const h = (k: string): string[] => req.headers.get(k) ?? [];
    const to = h('to')[0] ?? '';
    const lines = [
      `SIP/2.0 ${status} ${reason}`,
      ...h('via').map((v) => `Via: ${v}`),
      ...h('record-route').map((v) => `Record-Route: ${v}`),
      `From: ${h('from')[0]}`,
      `To: ${/;tag=/.test(to) ? to : `${to};tag=${toTag}`}`,
      `Call-ID: ${h('call-id')[0]}`,
      `CSeq: ${h('cseq')[0]}`,
      `Contact: <sip:callee@127.0.0.1:${this.port}>`,
      'Content-Length: 0',
      '',
      '',
    ];
    this.send(lines.join('\r\n'));
  }
  /** Next received message matching `pred` (earlier non-matching ones are dropped). */
  async next(pred: (m: SipMsg) => boolean, timeoutMs = 10_000): Promise<SipMsg> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.queue.findIndex(pred);
      if (i >= 0) {
        const m = this.queue[i]!;
        this.queue.splice(0, i + 1);
        return m;
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out; received: ${this.queue.map((m) => m.firstLine).join(' | ')}`);
      await new Promise<void>((ok) => {
        const t = setTimeout(ok, left);
        this.waiters.push(() => {
          clearTimeout(t);
          ok();
        });
      });
    }
  }
  close(): void {
    this.sock.close();
  }
}

const DOMAIN = 'callmetry.test';

describe('startKamailio', () => {
  beforeAll(() => requireNamespace());

  test('config template renders every placeholder and rejects bad values', () => {
    const cfg = renderKamailioConfig({ sipPort: 5062, wsPort: 8092, domain: DOMAIN, inviteTimeoutMs: 1000, debugLevel: 2 });
    expect(cfg).not.toMatch(/\{\{/);
    expect(cfg).toContain('listen=udp:127.0.0.1:5062');
    expect(cfg).toContain('listen=tcp:127.0.0.1:8092');
    expect(cfg).toContain('save("location", "0x04")');
    expect(() => renderKamailioConfig({ sipPort: 5062, wsPort: 8092, domain: 'a b', inviteTimeoutMs: 1, debugLevel: 2 })).toThrow(/domain/);
  });

  test('a missing binary fails with a clear message', async () => {
    expect(() => findKamailio('/nonexistent/kamailio')).toThrow(/apt-get install -y kamailio kamailio-websocket-modules/);
    await expect(startKamailio({ binary: '/nonexistent/kamailio' })).rejects.toThrow(/Kamailio not found/);
  });

  test('two instances run side by side; stop() ends every process of each and removes its files', async () => {
    const [k1, k2] = await Promise.all([startKamailio(), startKamailio()]);
    try {
      expect(new Set([k1.sipPort, k1.wsPort, k2.sipPort, k2.wsPort]).size).toBe(4);
      expect(k1.wsUrl).toBe(`ws://127.0.0.1:${k1.wsPort}`);
      expect(await probeWebSocket(k1.wsPort)).toBe(true);
      expect(await probeWebSocket(k2.wsPort)).toBe(true);
      expect(existsSync(k1.configPath)).toBe(true);
    } finally {
      await k1.stop();
    }
    expect(kamailioGroupAlive(k1.pid)).toBe(false);
    expect(existsSync(k1.configPath)).toBe(false);
    // The other instance is untouched.
    expect(await probeWebSocket(k2.wsPort)).toBe(true);
    await k2.stop();
    expect(kamailioGroupAlive(k2.pid)).toBe(false);
    await k2.stop(); // idempotent
  });

  test('a given port that is taken fails at once (the other server would answer the probe)', async () => {
    const k1 = await startKamailio();
    try {
      await expect(startKamailio({ sipPort: k1.sipPort })).rejects.toThrow(/port already in use.*SIP/);
      await expect(startKamailio({ wsPort: k1.wsPort })).rejects.toThrow(/port already in use.*WS/);
      // The instance probe tells instances apart.
      expect(await probeInstance(k1.wsPort)).toMatch(/^[0-9a-f]{24}$/);
    } finally {
      await k1.stop();
    }
  });

  test('a server that dies during start-up fails loudly with its output', async () => {
    await expect(startKamailio({ binary: '/bin/false' })).rejects.toThrow(/exited during start-up[\s\S]*kamailio output/);
  });
});

describe('kamailio.cfg routing over UDP', () => {
  let kam: KamailioServer;
  let alice: Endpoint;
  let bob: Endpoint;
  const INVITE_TIMEOUT = 1500;
  beforeAll(async () => {
    requireNamespace();
    kam = await startKamailio({ inviteTimeoutMs: INVITE_TIMEOUT });
    alice = await Endpoint.open(kam.sipPort);
    bob = await Endpoint.open(kam.sipPort);
    bob.request('REGISTER', `sip:${DOMAIN}`, `sip:bob@${DOMAIN}`, `sip:bob@${DOMAIN}`, 'reg-bob', [
      `Contact: <sip:bob@127.0.0.1:${bob.port}>`,
      'Expires: 300',
    ]);
    const ok = await bob.next((m) => m.status !== undefined && m.status >= 200);
    expect(ok.status).toBe(200);
  });
  afterAll(async () => {
    alice?.close();
    bob?.close();
    await kam?.stop();
  });

  const invites = new Map<string, { branch: string; cseq: number; user: string }>();
  const invite = (callId: string, user = 'bob'): void => {
    const cseq = 1;
    const branch = alice.request(
      'INVITE',
      `sip:${user}@${DOMAIN}`,
      `sip:alice@${DOMAIN}`,
      `sip:${user}@${DOMAIN}`,
      callId,
      [`Contact: <sip:alice@127.0.0.1:${alice.port}>`],
      '',
      undefined,
      cseq,
    );
    invites.set(callId, { branch, cseq, user });
  };
  /** ACK for a negative final reply: same branch and CSeq number as the INVITE, To with the reply's tag. */
  const ack = (callId: string, final: SipMsg): void => {
    const inv = invites.get(callId)!;
    const to = final.headers.get('to')?.[0] ?? '';
    const ruri = `sip:${inv.user}@${DOMAIN}`;
    alice.request('ACK', ruri, `sip:alice@${DOMAIN}`, to, callId, [], '', inv.branch, inv.cseq);
  };

  test('INVITE to an unregistered user: 404', async () => {
    invite('c-404', 'nobody');
    const r = await alice.next((m) => m.status !== undefined && m.status >= 200);
    expect(r.status).toBe(404);
    ack('c-404', r);
  });

  test('callee rejects with 486: relayed to the caller', async () => {
    invite('c-486');
    const inv = await bob.next((m) => m.method === 'INVITE');
    expect(inv.headers.get('record-route')?.[0]).toContain(`127.0.0.1:${kam.sipPort}`);
    bob.reply(inv, 486, 'Busy Here');
    const r = await alice.next((m) => m.status !== undefined && m.status >= 200);
    expect(r.status).toBe(486);
    ack('c-486', r);
    // the proxy ACKs bob's 486 itself
    await bob.next((m) => m.method === 'ACK');
  });

  test('ringing callee, no answer: proxy CANCELs the callee and answers the caller 408', async () => {
    const t0 = Date.now();
    invite('c-408');
    const inv = await bob.next((m) => m.method === 'INVITE');
    bob.reply(inv, 180, 'Ringing');
    expect((await alice.next((m) => m.status === 180)).status).toBe(180);
    const cancel = await bob.next((m) => m.method === 'CANCEL', INVITE_TIMEOUT + 10_000);
    bob.reply(cancel, 200, 'OK');
    bob.reply(inv, 487, 'Request Terminated');
    const r = await alice.next((m) => m.status !== undefined && m.status >= 200);
    expect(r.status).toBe(408);
    ack('c-408', r);
    console.log(`408 after ${Date.now() - t0} ms`);
  });
});

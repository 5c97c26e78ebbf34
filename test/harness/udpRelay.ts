// A UDP relay on 127.0.0.1 that a test controls: the network impairment the kernel here cannot
// give (no netem). Point one peer at the relay's port (as its only remote candidate); the relay
// forwards to the real target and sends replies back, so the other peer sees a peer-reflexive
// candidate. `pause()` drops every datagram both ways until `resume()`; `setLoss(p)` drops a
// fraction of them.
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';

export interface UdpRelay {
  /** Port on 127.0.0.1 that the first peer should send to. */
  readonly port: number;
  /** Forwarded datagrams, both directions. */
  readonly forwarded: number;
  readonly dropped: number;
  pause(): void;
  resume(): void;
  /** Drop this fraction (0..1) of datagrams, chosen at random. */
  setLoss(fraction: number): void;
  close(): Promise<void>;
}

export async function startUdpRelay(target: { host?: string; port: number }): Promise<UdpRelay> {
  const targetHost = target.host ?? '127.0.0.1';
  const front: Socket = createSocket('udp4');
  const back: Socket = createSocket('udp4');
  let client: RemoteInfo | undefined;
  let paused = false;
  let loss = 0;
  let forwarded = 0;
  let dropped = 0;
  const pass = () => {
    if (paused || (loss > 0 && Math.random() < loss)) {
      dropped++;
      return false;
    }
    forwarded++;
    return true;
  };
  front.on('message', (msg, rinfo) => {
    client = rinfo;
    if (pass()) back.send(msg as unknown as Uint8Array, target.port, targetHost);
  });
  back.on('message', (msg) => {
    if (client && pass()) front.send(msg as unknown as Uint8Array, client.port, client.address);
  });
  const bind = (s: Socket) => new Promise<void>((ok) => s.bind(0, '127.0.0.1', () => ok()));
  await Promise.all([bind(front), bind(back)]);
  return {
    port: front.address().port,
    get forwarded() {
      return forwarded;
    },
    get dropped() {
      return dropped;
    },
    pause: () => void (paused = true),
    resume: () => void (paused = false),
    setLoss: (fraction) => void (loss = Math.min(1, Math.max(0, fraction))),
    close: () =>
      new Promise<void>((ok) => {
        back.close();
        front.close(() => ok());
      }),
  };
}

import { attachAdapter, type Fabric, type FabricEvent, type Monitor, type StreamMapping } from '@callmetry/core';
import type {
  AppDataLike,
  AttachMediasoupOptions,
  ConsumerLike,
  ConsumerUser,
  DetachMediasoup,
  DeviceLike,
  ProducerLike,
  TransportLike,
} from './types';
import { BUILT_IN_HANDLER, peerConnectionFor } from './peerConnection';

type Item = ProducerLike | ConsumerLike;

/** [pause, resume] fabric events by kind. */
const MUTE: Record<string, FabricEvent[]> = { audio: ['audioMute', 'audioUnmute'], video: ['videoPause', 'videoResume'] };

/** A non-empty string (a finite number becomes one: numeric peer IDs), else undefined. */
const str = (value: unknown): string | undefined =>
  (typeof value == 'string' && value) || (typeof value == 'number' && isFinite(value)) ? String(value) : undefined;

const appData = (item: { readonly appData: AppDataLike }): AppDataLike => item.appData || {};

/** mediasoup-demo's `share: true`, `screen: true`, or a source naming the screen or display. */
const isScreenShare = (data: AppDataLike): boolean =>
  data.share === true || data.screen === true || /screen|display/i.test(String(data.source));

/** Maps every SSRC (RTX included) of the item's RTP parameters, and the mid, to `mapping`. */
function mapStreams(fabric: Fabric, item: Item, mid: string | undefined, mapping: StreamMapping): void {
  for (const encoding of item.rtpParameters.encodings ?? [])
    for (const ssrc of [encoding.ssrc, encoding.rtx?.ssrc]) if (ssrc != null) fabric.mapStream({ ssrc }, mapping);
  // The mid covers what SSRCs cannot: simulcast by rid (no SSRC in the parameters).
  if (mid) fabric.mapStream({ mid }, mapping);
}

/**
 * Monitors every transport a mediasoup-client `Device` creates from now on: each becomes a
 * fabric of `monitor` (remote endpoint `server`), its producers are the local user's streams
 * and its consumers the streams of the users who produced them. Returns `detach`, which removes
 * every listener and terminates the fabrics the adapter created (the call goes on).
 *
 * Attach right after `new Device()` / `Device.factory()`: transports created earlier are not
 * seen (mediasoup-client has no public list of them). Attaching the same device to the same
 * monitor twice returns the first attachment's `detach`; closing the monitor detaches. Never
 * throws: every listener and option function is guarded, failures go to `monitor.logger`.
 */
export function attachMediasoup(device: DeviceLike, monitor: Monitor, options?: AttachMediasoupOptions): DetachMediasoup {
  return attachAdapter('mediasoup', device, monitor, ({ listen, logger, onDetach }) => {
    const opts = (options || {}) as Record<string, unknown>;
    /** An option's value, or what its function returns for `args`: a throw is logged and read as undefined. */
    const option = (name: keyof AttachMediasoupOptions, ...args: unknown[]): unknown => {
      const value = opts[name];
      if (typeof value != 'function') return value;
      try {
        return value(...args);
      } catch (error) {
        logger.error(`options.${name} threw`, error);
      }
    };
    const label = (item: Item, direction: 'send' | 'recv', screen: boolean): string =>
      str(option('usageLabel', item, direction)) ??
      str(appData(item).usageLabel) ??
      str(appData(item).source) ??
      (screen ? 'screen' : item.kind == 'audio' ? 'microphone' : 'camera');

    // The fabrics of open transports: terminated on detach (monitoring stops, the call goes on).
    const fabrics = new Set<Fabric>();
    onDetach(() => fabrics.forEach((fabric) => fabric.terminate()));

    listen(device.observer, 'newtransport', (transport: TransportLike) => {
      const skip = (why: unknown): void => logger.warn(`mediasoup transport ${transport.id} not monitored: ${why}`);
      const data = appData(transport);
      const conferenceID = str(option('conferenceID', transport)) ?? str(data.conferenceID) ?? str(data.roomId);
      if (!conferenceID) return skip('no conference ID');
      const { pc, source, handlerName } = peerConnectionFor(transport, options?.peerConnection);
      const { fabric, result } = monitor.tryAddFabric(pc, {
        remoteUserID: str(option('remoteUserID', transport)) ?? 'sfu',
        conferenceID,
        remoteEndpointType: 'server',
        direction: transport.direction == 'send' ? 'sendonly' : 'receiveonly',
        attributes: {
          sfu: 'mediasoup',
          transportId: transport.id,
          transportDirection: transport.direction,
          peerConnection: source,
          handlerName,
          ...options?.attributes,
        },
      });
      if (!fabric) return skip(result.message);
      fabrics.add(fabric);

      /** pause/resume, trackended and close, common to producers and consumers. */
      const watch = (item: Item, what: string, event: Record<string, unknown>, onClose?: (reason: string) => void): void => {
        const mute = MUTE[item.kind] ?? [];
        const send = (index: number) => () => mute[index] && fabric.sendEvent(mute[index], event);
        if (item.paused) send(0)();
        const off = [
          listen(item.observer, 'pause', send(0)),
          listen(item.observer, 'resume', send(1)),
          listen(item.observer, 'trackended', () =>
            fabric.reportError('applicationLog', {
              name: 'TrackEnded',
              message: `mediasoup ${what} ${item.id} (${item.kind}, ${String(event.usageLabel)}): its track ended`,
            }),
          ),
          listen(item.observer, 'close', () => {
            off.forEach((remove) => remove());
            // The transport is marked closed before it closes its producers and consumers.
            onClose?.(transport.closed ? 'transportclose' : 'close');
          }),
        ];
      };

      const off = [
        listen(transport.observer, 'newproducer', (producer: ProducerLike) => {
          const screen =
            producer.kind == 'video' &&
            (options?.isScreenShare ? option('isScreenShare', producer) === true : isScreenShare(appData(producer)));
          const usageLabel = label(producer, 'send', screen);
          mapStreams(fabric, producer, producer.rtpParameters.mid, { userID: monitor.localUserID, usageLabel });
          const event = { producerId: producer.id, kind: producer.kind, usageLabel, direction: 'outbound' };
          if (screen) fabric.sendEvent('screenShareStart', event);
          watch(producer, 'producer', event, (reason) => screen && fabric.sendEvent('screenShareStop', { ...event, reason }));
        }),
        listen(transport.observer, 'newconsumer', (consumer: ConsumerLike) => {
          const data = appData(consumer);
          const found = options?.userIdFromConsumer
            ? option('userIdFromConsumer', consumer, transport)
            : str(data.userId) ?? str(data.peerId) ?? str(data.displayName);
          const user = (str(found) ? { userID: str(found) } : found && str((found as ConsumerUser).userID) ? found : {}) as Partial<ConsumerUser>;
          const userID = str(user.userID) ?? fabric.remoteUserID;
          const usageLabel = str(user.usageLabel) ?? label(consumer, 'recv', consumer.kind == 'video' && isScreenShare(data));
          const mid = str(consumer.rtpParameters.mid) ?? (BUILT_IN_HANDLER.test(handlerName!) ? consumer.localId : undefined);
          mapStreams(fabric, consumer, mid, { ...user, userID, usageLabel });
          watch(consumer, 'consumer', {
            consumerId: consumer.id,
            producerId: consumer.producerId,
            kind: consumer.kind,
            userID,
            usageLabel,
            direction: 'inbound',
          });
        }),
        listen(transport.observer, 'close', () => {
          off.forEach((remove) => remove());
          fabrics.delete(fabric);
          fabric.terminate({ reason: 'transportclose' });
        }),
      ];
    });
  });
}

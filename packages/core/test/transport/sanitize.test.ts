// The wire sanitizer keeps numbers within what the collector accepts (docs/protocol.md: at most
// 10^9), so that one absurd field is left out with a warning instead of the collector refusing
// the whole stats item.
import { describe, expect, it } from 'vitest';
import { createSanitizer } from '../../src/transport/sanitize';

describe('createSanitizer number bounds', () => {
  it('a stream or connection number over 10^9 is left out (warned once); 10^9 itself is sent', () => {
    const warnings: string[] = [];
    const s = createSanitizer((m) => warnings.push(m), false);
    const stream = (bitrate: number) => s.stream({ key: 'k', ssrc: '1', statsType: 'inbound-rtp', mediaType: 'audio', bitrate, rtt: 20 });
    expect(stream(1e9)).toEqual({ key: 'k', ssrc: '1', statsType: 'inbound-rtp', mediaType: 'audio', bitrate: 1e9, rtt: 20 });
    expect(stream(2e9)).toEqual({ key: 'k', ssrc: '1', statsType: 'inbound-rtp', mediaType: 'audio', rtt: 20 });
    expect(stream(3e9).bitrate).toBeUndefined();
    expect(s.connection({ rtt: 1e9 + 1, availableOutgoingBitrate: 2500 })).toEqual({ availableOutgoingBitrate: 2500 });
    expect(warnings).toEqual([
      "stream field 'bitrate' is invalid (2000000000): not sent.",
      "connection field 'rtt' is invalid (1000000001): not sent.",
    ]);
  });
});

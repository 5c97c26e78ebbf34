// The SIP.js softphone example (examples/sipjs/) end to end: served at /examples/sipjs/ by the real
// collector with serveExamples (from source, in this process). Two Chromium pages register with
// Kamailio through the page's own form; alice calls bob (auto-answer), holds, mutes, hangs up; the
// collector stores both users' fabrics in the conference named by the Call-ID.
// The files the page loads from /packages/.../dist and ./dist are built from source into a
// temporary repo root by test/harness/sipExample.ts, so the test needs no prior build and writes
// nothing into the repo.
import { describe, expect, test } from 'vitest';
import { useSipExample } from '../../../test/harness/sipExample';

describe('examples/sipjs served by the collector', () => {
  const { openPhone, logHas, startCall, endCall } = useSipExample({
    name: 'sipjs',
    // examples/sipjs/build.mjs; the page's import map resolves '@callmetry/core' to the global.
    library: { contents: "import * as SIP from 'sip.js'; globalThis.SIP = SIP;", sourcefile: 'sip-global.js', outfile: 'sip.js' },
    // Like the rollup build: the only runtime import is the peer dependency.
    checkAdapter: (code) => expect(code.match(/^import .*$/gm)).toEqual([expect.stringMatching(/from "@callmetry\/core";$/)]),
    params: { ice: 'none' },
  });

  test('register, call (auto-answer), hold, mute, hang up: both fabrics reach the collector', async () => {
    const { alice, bob } = await startCall();
    await alice.page.click('#hold');
    await Promise.all([logHas(alice.page, 'event fabricHold {"originator":"local"}'), logHas(bob.page, 'event fabricHold {"originator":"remote"}')]);
    await logHas(alice.page, 'on hold');
    await alice.page.click('#hold'); // now "Unhold"
    await Promise.all([logHas(alice.page, 'event fabricResume {"originator":"local"}'), logHas(bob.page, 'event fabricResume {"originator":"remote"}')]);
    await alice.page.click('#mute');
    await Promise.all([logHas(alice.page, 'event audioMute'), logHas(alice.page, 'event videoPause')]);
    await alice.page.click('#mute'); // now "Unmute"
    await Promise.all([logHas(alice.page, 'event audioUnmute'), logHas(alice.page, 'event videoResume')]);
    await endCall(alice, bob);
  });

  test('a declined call shows callUnAnswered with the SIP status', async () => {
    const [carol, dave] = await Promise.all([openPhone('carol', { target: 'dave' }), openPhone('dave', {})]);
    await carol.page.click('#call');
    await logHas(dave.page, 'incoming call');
    await dave.page.click('#decline');
    await logHas(carol.page, 'event callUnAnswered {"cause":"noAnswer","originator":"remote","statusCode":480,"reasonPhrase":"Temporarily Unavailable"}');
    await logHas(carol.page, 'error applicationLog (applicationLog): 480 Temporarily Unavailable (INVITE to sip:dave@');
    await logHas(dave.page, 'error applicationLog (applicationLog): incoming call from sip:carol@');
    await logHas(carol.page, 'event fabricTerminated');
  });
});

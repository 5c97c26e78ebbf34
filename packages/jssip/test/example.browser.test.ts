// The JsSIP softphone example (examples/jssip/) end to end: served at /examples/jssip/ by the real
// collector with serveExamples (from source, in this process), two Chromium pages register with
// Kamailio through the page's own form, alice calls bob (auto-answer), holds, hangs up, and the
// collector stores both users' fabrics for the conference named by the Call-ID.
// The files the page loads from /packages/.../dist and ./dist are built from source into a
// temporary repo root by test/harness/sipExample.ts, so the test needs no prior build and writes
// nothing into the repo.
import { describe, test } from 'vitest';
import { useSipExample } from '../../../test/harness/sipExample';

describe('examples/jssip served by the collector', () => {
  const { logHas, startCall, endCall } = useSipExample({
    name: 'jssip',
    // examples/jssip/build.mjs; the page's import map points @callmetry/core at core's ESM build.
    library: { contents: "import * as JsSIP from 'jssip'; globalThis.JsSIP = JsSIP;", sourcefile: 'jssip-global.js', outfile: 'jssip.js' },
    coreEsm: true,
  });

  test('register, call (auto-answer), hold, hang up: both fabrics reach the collector', async () => {
    const { alice, bob } = await startCall();
    await alice.page.click('#hold');
    await Promise.all([logHas(alice.page, 'event fabricHold {"originator":"local"}'), logHas(bob.page, 'event fabricHold {"originator":"remote"}')]);
    await alice.page.click('#hold'); // now "Unhold"
    await Promise.all([logHas(alice.page, 'event fabricResume'), logHas(bob.page, 'event fabricResume')]);
    await endCall(alice, bob);
  });
});

// callstats-js 3.73.16 (the original, closed source, minified). Without its service, initialize()
// never authenticates and nothing after it runs, so its objects are set up by hand, the way its own
// code does it: the browserify bundle's prelude returns its internal require (we evaluate the
// unmodified file as an expression, in a function giving it the CommonJS `module` it expects), then
//  - Endpoint.setup() (browser detection) and the stats pipeline wired as its onStart() does:
//    StatsAdapter -> StatsParser -> StatsMonitor -> StatsAssembler -> StatsTransmitter,
//    StatsMonitor.setIntervals(1000, 1000) (what a 1 s statsSubmissionInterval gives);
//  - the fabric as addNewFabric() registers it: ConferenceManager.add + PeerConnectionManager
//    .addPcHandler(pc, ...) -> its PeerConnectionHandler with its GetStatsHandler;
//  - configParams.collectLegacyStats = false: with the default (true) it also calls the legacy
//    callback getStats(), which Chromium 156 rejects, and its stats promise never settles (it
//    would process nothing at all on today's Chromium).
// A poll is that GetStatsHandler's csioGetStats(statsHandler): getStats resolution -> adapter
// (extract, merge, processRawStats with the SDP's SSRC info, back-fill) -> parser -> monitor (track,
// transport and interval monitors, hooks) and, once per second of its clock (advanced 1 s per poll),
// the stats tuple -> assembler -> transmitter (unified format) -> EventMessageBuilder.make (its
// message). Handing the message to a connection does not happen (there is none): not timed.
import { FakePeerConnection, fetchFixture, realNow, register, timePolls } from './common';

type Req = (id: number) => Record<string, unknown>;
type Obj = Record<string, (...a: unknown[]) => unknown>;

function moduleIdAt(src: string, marker: string): number {
  const at = src.indexOf(marker);
  if (at < 0) throw new Error(`callstats-js: marker ${marker} not found`);
  const head = src.lastIndexOf(':[function(a,b,c){', at);
  const m = /(\d+)$/.exec(src.slice(Math.max(0, head - 8), head));
  if (!m) throw new Error(`callstats-js: no module header before ${marker}`);
  return Number(m[1]);
}

register({
  async run(arg: { fixture: string }) {
    const fx = await fetchFixture(arg.fixture);
    FakePeerConnection.sdp = { local: fx.localSDP, remote: fx.remoteSDP };
    const src = await (await fetch('/peer/callstats.min.js.txt')).text();
    const body = src.slice(src.indexOf('!function') + 1);
    const cjs = { exports: {} };
    const req = new Function('module', 'exports', `return 0,${body}`)(cjs, cjs.exports) as Req;
    if (typeof req !== 'function') throw new Error('callstats-js: the bundle did not return its require');
    const Registry = (req(moduleIdAt(src, 'c.Registry=Z')) as { Registry: Record<string, () => Obj> }).Registry;
    const settings = req(moduleIdAt(src, 'c.setCollectLegacyStats=j')) as Obj;
    const get = (name: string): Obj => {
      const f = Registry[name];
      if (typeof f !== 'function') throw new Error(`callstats-js: Registry.${name} missing`);
      return f.call(Registry);
    };

    get('getEndpoint').setup!();
    settings.setCollectLegacyStats!(false);
    const adapter = get('getStatsAdapter');
    const parser = get('getStatsParser');
    const monitor = get('getStatsMonitor');
    const transmitter = get('getStatsTransmitter');
    const assembler = get('getStatsAssembler');
    adapter.connect!('RawStatsOut', parser.getPort!('RawStatsIn'));
    parser.connect!('PcStatsTupleOut', monitor.getPort!('PcStatsTupleIn'));
    monitor.connect!('StatsTupleOut', assembler.getPort!('StatsTupleIn'));
    assembler.connect!('CallstatsOut', transmitter.getPort!('CallstatsIn'));
    adapter.connect!('UnprocessedOut', transmitter.getPort!('UnprocessedIn'));
    monitor.setIntervals!(1000, 1000);

    const conferenceID = 'bench-conference';
    const conferences = get('getConferenceManager');
    conferences.add!(conferenceID, get('getCredentials'));
    const conference = conferences.get!(conferenceID) as Obj;
    const pcs = conference.getPeerConnectionManager!() as Obj;
    const pc = new FakePeerConnection();
    pcs.addPcHandler!(pc, 'bob', 'multiplex', conferenceID, fx.name === 'sfu' ? 'server' : 'peer', 'sendrecv', () => {});
    const handler = pcs.getPcHandler!(pc) as Obj & { getStatsHandler: Obj };
    handler.stopStatsPolling!(); // the harness polls, not its own timer
    const pcHash = handler.getPcHash!() as string;
    const getStats = handler.getStatsHandler;

    // Its clock (performance.now + navigationStart) advances one second per poll.
    let virtualMs = 0;
    performance.now = () => realNow() + virtualMs;
    // Count the messages it builds (EventMessageBuilder.make, looked up at call time).
    let messages = 0;
    const emb = get('getEventMessageBuilder');
    const make = emb.make as (...a: unknown[]) => unknown;
    emb.make = function (this: unknown, ...a: unknown[]) {
      messages++;
      return make.apply(this, a);
    };
    const calls = FakePeerConnection.getStatsCalls;
    const r = await timePolls({
      polls: fx.polls,
      beforePoll: () => {
        virtualMs += 1001;
      },
      poll: () => getStats.csioGetStats!(getStats.statsHandler, pcHash),
    });
    if (FakePeerConnection.getStatsCalls === calls) throw new Error('callstats-js did not call getStats');
    if (!messages) throw new Error('callstats-js built no stats message');
    return { ...r, messages, getStatsCalls: FakePeerConnection.getStatsCalls - calls };
  },
});

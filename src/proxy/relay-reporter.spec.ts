import { RelayReporter } from './relay-reporter';
import { type FromRelayWorker, RELAY_REPORT_INTERVAL_MS } from './relay-worker.protocol';
import type { WsTunnel } from './ws-tunnel';

const HOUR_MS = 3_600_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let reporter: RelayReporter | undefined;

function reporterWithTunnel() {
  const reports: FromRelayWorker[] = [];
  reporter = new RelayReporter(7, (report) => reports.push(report));
  const flow = { toServer: { buffered: 0, viewerPaused: false }, toViewer: { buffered: 0, serverPaused: false } };
  reporter.tunnel = { viewerHasSpoken: true, flow } as unknown as WsTunnel;
  return { reporter, reports };
}

describe('RelayReporter', () => {
  afterEach(() => {
    jest.restoreAllMocks();
    reporter?.flush(); // no timer left behind
  });

  it('sends counts at most every RELAY_REPORT_INTERVAL_MS, added up', async () => {
    // The reporter's clock stands still: a loaded machine's slow turns cannot make the interval pass early.
    let now = 1_000;
    jest.spyOn(performance, 'now').mockImplementation(() => now);
    const { reporter, reports } = reporterWithTunnel();
    reporter.count('toServer', 10, 1);
    await sleep(5);
    expect(reports).toHaveLength(1);
    reporter.count('toServer', 20, 1);
    reporter.count('toViewer', 5, 1);
    // Not sent on the next turn (a report queued for it would have gone before this wait ends): it waits its interval.
    await new Promise((resolve) => setImmediate(resolve));
    expect(reports).toHaveLength(1);
    now += RELAY_REPORT_INTERVAL_MS;
    await sleep(RELAY_REPORT_INTERVAL_MS * 3);
    expect(reports).toHaveLength(2);
    expect(reports[1]).toMatchObject({
      type: 'report',
      id: 7,
      counts: { toServer: { bytes: 20, messages: 1 }, toViewer: { bytes: 5, messages: 1 } },
    });
  });

  it('keeps reporting when the wall clock steps back an hour (else an active viewer is ended as idle)', async () => {
    const { reporter, reports } = reporterWithTunnel();
    reporter.count('toServer', 10, 1);
    await sleep(5);
    const wall = Date.now();
    jest.spyOn(Date, 'now').mockImplementation(() => wall - HOUR_MS);
    reporter.count('toServer', 10, 1);
    await sleep(RELAY_REPORT_INTERVAL_MS * 5);
    expect(reports).toHaveLength(2);
  });
});

/**
 * End to end in Chromium, through the HAProxy recipe: the dashboard, given an API key, sends it in headers only. Its
 * event stream used an EventSource, which cannot send headers, so the key went in the URL (`events?access_token=`)
 * and the recipe's httplog wrote it, in the clear, into the balancer's log: anyone who reads that log held a key
 * that opens everything. The built service, HAProxy and Chromium run as real processes.
 * Without /usr/bin/chromium or /usr/sbin/haproxy this test fails and says to run `npm run setup`.
 */
import { chromium } from 'playwright-core';
import { startHaproxy, waitUntilBalanced } from './support/haproxy';
import { useCleanup } from './support/processes';
import { FAST_TIMINGS, startServiceProcess } from './support/spawner-app';
import { requireSystemBinary } from './support/system-packages';
import { makeTempDir } from './support/temp';
import { waitFor } from './support/wait';

/** This file's ports (31740-31749): the service, its agent port, its servers, two absent nodes, the balancer. */
const SERVICE_PORT = 31740;
const AGENT_PORT = 31741;
const BALANCER_PORT = 31749;
const ABSENT_NODES = [
  { name: 'node-b', port: 31746, agentPort: 31748 },
  { name: 'node-c', port: 31747, agentPort: 31748 },
];
const KEY = 'k3y-not-in-any-url-0123456789';
const UI_TIMEOUT_MS = 20_000;

describe('the API key stays out of URLs (e2e, browser, HAProxy)', () => {
  const cleanup = useCleanup();

  it("the dashboard's event stream carries the key in a header: no request URL, and no balancer log line, holds it", async () => {
    const chromiumPath = requireSystemBinary('/usr/bin/chromium', 'chromium');
    const balancer = `http://127.0.0.1:${BALANCER_PORT}`;
    const service = await startServiceProcess(SERVICE_PORT, {
      ...FAST_TIMINGS,
      SC_PORT_BASE: '31742',
      SC_PORT_COUNT: '4',
      SC_MAX_SPAWNS: '2',
      NODE_NAME: 'node-a',
      AGENT_CHECK_PORT: String(AGENT_PORT),
      PUBLIC_BASE_URL: balancer,
      PUBLIC_ENDPOINT: 'proxy',
      TRUST_PROXY: 'loopback',
      API_KEYS: KEY,
    });
    cleanup.add(() => service.stop(5000), `service process ${service.child.pid}`);

    const lb = await startHaproxy(
      [{ name: 'node-a', port: SERVICE_PORT, agentPort: AGENT_PORT }, ...ABSENT_NODES],
      cleanup,
      { port: BALANCER_PORT, checkInterMs: 200, agentInterMs: 200 },
    );
    const log = lb.output;
    await waitUntilBalanced(lb, 'node-a');

    const context = await chromium.launchPersistentContext(makeTempDir(cleanup, 'sc-key-urls-chromium-'), {
      executablePath: chromiumPath,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    });
    cleanup.add(() => context.close(), 'chromium');
    const page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(UI_TIMEOUT_MS);
    const urls: string[] = [];
    /** The event streams the page opens once it has the key (before, it opens them without one, and is refused). */
    const streams: Array<string | undefined> = [];
    let keyGiven = false;
    page.on('request', (request) => {
      urls.push(request.url());
      if (keyGiven && /\/events(\?|$)/.test(request.url())) streams.push(request.headers().authorization);
    });
    const byTestId = (id: string) => page.locator(`[data-testid="${id}"]`);

    await page.goto(`${balancer}/n/node-a/`);
    await byTestId('key-input').fill(KEY);
    keyGiven = true;
    await byTestId('key-submit').click();
    await waitFor(async () => (await byTestId('link-status').getAttribute('data-link')) === 'live', UI_TIMEOUT_MS, {
      description: 'the dashboard to say Live (its event stream open)',
    });
    // A state change that reaches the page over that stream: the card of a viewer it creates turns connected.
    await byTestId('create-button').click();
    const connected = page.locator('[data-testid="session-card"][data-state="connected"]');
    await waitFor(async () => (await connected.count()) === 1, UI_TIMEOUT_MS, {
      description: 'a connected card (its state change arrives over the keyed event stream)',
    });
    await context.close();

    // HAProxy writes a stream's line once it ends: the page is gone, so every event stream it opened ends.
    const lines = () => log.join('').split('\n');
    await waitFor(
      () => lines().filter((line) => /"GET \/n\/node-a\/events/.test(line)).length >= streams.length,
      30_000,
      { description: () => `HAProxy to log the event streams:\n${log.join('')}` },
    );
    expect(urls.filter((url) => url.includes(KEY))).toEqual([]);
    expect(lines().filter((line) => line.includes(KEY))).toEqual([]);
    expect(streams.length).toBeGreaterThan(0);
    expect(streams).toEqual(streams.map(() => `Bearer ${KEY}`));
  });
});

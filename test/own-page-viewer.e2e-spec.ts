/**
 * The dashboard's own viewer under CORS_ORIGINS, in Chromium against the built service. The production checklist
 * sets CORS_ORIGINS to the application's origins; the dashboard's requests, from the service's own origin, passed
 * (the HTTP routes let the service's own page in), but the viewer it attaches to each new session was refused 403
 * at the upgrade, since the upgrades' origin check knew only the listed origins. Its own page is now let in on
 * upgrades too, under the same names as on the HTTP routes: a page under another name (DNS rebinding, here a
 * name Chromium resolves to loopback) is still refused.
 * Without /usr/bin/chromium this test fails and says to run `npm run setup`.
 */
import { chromium } from 'playwright-core';
import { useCleanup } from './support/processes';
import { FAST_TIMINGS, startServiceProcess } from './support/spawner-app';
import { requireSystemBinary } from './support/system-packages';
import { makeTempDir } from './support/temp';

/** This file's ports (20900-20909): the service, then its servers. */
const SERVICE_PORT = 20900;
const PORT_BASE = 20901;
const PORT_COUNT = 4;
const KEY = 'own-page-viewer-key-0123456789';
const APP_ORIGIN = 'https://app.example.com';
/** A name Chromium resolves to this node, as DNS rebinding would make an attacker's name resolve. */
const REBOUND = 'rebound.example';
const UI_TIMEOUT_MS = 20_000;

describe("the dashboard's own viewer with CORS_ORIGINS set (e2e, browser)", () => {
  const cleanup = useCleanup();

  it('attaches to the session it created; a page under a rebound name is still refused', async () => {
    const chromiumPath = requireSystemBinary('/usr/bin/chromium', 'chromium');
    const service = await startServiceProcess(SERVICE_PORT, {
      ...FAST_TIMINGS,
      SPAWN_READY_TIMEOUT_S: '15',
      SC_PORT_BASE: String(PORT_BASE),
      SC_PORT_COUNT: String(PORT_COUNT),
      SC_MAX_SPAWNS: '2',
      API_KEYS: KEY,
      CORS_ORIGINS: APP_ORIGIN,
      PUBLIC_ENDPOINT: 'proxy',
    });
    cleanup.add(() => service.stop(5000), `service process ${service.child.pid}`);

    const context = await chromium.launchPersistentContext(makeTempDir(cleanup, 'sc-own-page-chromium-'), {
      executablePath: chromiumPath,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
        `--host-resolver-rules=MAP ${REBOUND} 127.0.0.1`,
      ],
    });
    cleanup.add(() => context.close(), 'chromium');
    const page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(UI_TIMEOUT_MS);
    const byTestId = (id: string) => page.locator(`[data-testid="${id}"]`);

    await page.goto(`${service.url}/`);
    await byTestId('key-input').fill(KEY);
    await byTestId('key-submit').click();
    await byTestId('create-button').click();
    const card = page.locator('[data-testid="session-card"]');
    // Before: "Viewer could not connect (code 1006)", the upgrade answered 403 for the page's own origin.
    await page
      .locator('[data-testid="session-card"] [data-testid="ws-status"]', { hasText: 'hello received' })
      .waitFor();
    expect(await card.getAttribute('data-ws')).toBe('connected');

    // The same page served under a name the node was not given: its upgrades are refused (its POSTs are too).
    const spawned = await fetch(`${service.url}/spawn`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: '{}',
    });
    const { proxyEndpoint } = (await spawned.json()) as { proxyEndpoint: string };
    const relayPath = new URL(proxyEndpoint).pathname;
    await page.goto(`http://${REBOUND}:${SERVICE_PORT}/`);
    const opened = await page.evaluate(
      (url) =>
        new Promise<string>((resolve) => {
          const ws = new WebSocket(url);
          ws.onopen = () => (ws.close(), resolve('open'));
          ws.onerror = () => resolve('refused');
        }),
      `ws://${REBOUND}:${SERVICE_PORT}${relayPath}`,
    );
    expect(opened).toBe('refused');
    expect(service.output.join('')).toMatch(/origin \\"http:\/\/rebound\.example:20900\\" may not open WebSockets/);
  });
});

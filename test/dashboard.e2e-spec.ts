/**
 * The operator's dashboard (`/`) in a real browser: playwright-core driving Debian's Chromium against the
 * built service running as its own process (dist/src/main.js), with real simulator processes behind it.
 * Every session's WebSocket goes through the service's proxy (/ws/<id>).
 *
 * Screenshots (laptop and phone widths) are written to test-artifacts/ (ignored by git).
 * Without /usr/bin/chromium this test fails and says to run `npm run setup`; it never passes silently.
 */
import { existsSync, mkdirSync } from 'fs';
import { get } from 'http';
import * as path from 'path';
import { chromium, type Locator, type Page } from 'playwright-core';
import { freePort } from './support/ports';
import { isProcessAlive, isProcessGroupAlive, signalProcess, useCleanup } from './support/processes';
import { FAST_TIMINGS, REPO_ROOT, SERVICE_MAIN, startApp, startServiceProcess } from './support/spawner-app';
import { requireSystemBinary } from './support/system-packages';
import { makeTempDir } from './support/temp';
import { sleep, waitFor } from './support/wait';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = path.join(REPO_ROOT, 'test-artifacts');
const PORT_BASE = 22500;
const PORT_COUNT = 4;
const LAPTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const UI_TIMEOUT_MS = 20_000;

interface SpawnView {
  id: string;
  state: string;
  links: { ws: string };
  pid?: number;
  rendererType: string;
}

async function listSpawns(url: string): Promise<SpawnView[]> {
  const response = await fetch(`${url}/spawns`);
  if (!response.ok) throw new Error(`GET /spawns answered ${response.status}`);
  return (await response.json()) as SpawnView[];
}

/** A port for the service outside the WebSocket port range it hands out. */
async function servicePort(): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (port < PORT_BASE || port >= PORT_BASE + PORT_COUNT) return port;
  }
}

async function screenshot(page: Page, name: string, viewport: { width: number; height: number }): Promise<void> {
  await page.setViewportSize(viewport);
  await page.evaluate('window.scrollTo(0, 0)');
  // Let the layout settle (and entry animations finish) before the picture.
  await page.waitForTimeout(400);
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

describe('dashboard in a browser (e2e)', () => {
  const cleanup = useCleanup();

  it('creates two viewers that reach "connected" through the proxy, shows a 503 at capacity, and closes one: process gone, card ended', async () => {
    const chromiumPath = requireSystemBinary(CHROMIUM, 'chromium');
    if (!existsSync(SERVICE_MAIN))
      throw new Error(`${SERVICE_MAIN} is missing: run "npm run build" first (npm test and npm run test:e2e do)`);
    mkdirSync(ARTIFACTS, { recursive: true });

    // ---- the service, as a real process; at cleanup it is stopped and every server it started must be gone
    const service = await startServiceProcess(await servicePort(), {
      ...FAST_TIMINGS,
      // This test is not about start-up timeouts; a slower machine running Chromium alongside must not trip them.
      SPAWN_READY_TIMEOUT_S: '15',
      SC_MAX_SPAWNS: '2',
      SC_PORT_BASE: String(PORT_BASE),
      SC_PORT_COUNT: String(PORT_COUNT),
    });
    const serverPids = new Set<number>();
    const notePids = async () => {
      for (const spawn of await listSpawns(service.url)) if (spawn.pid) serverPids.add(spawn.pid);
    };
    cleanup.add(async () => {
      await notePids().catch(() => undefined);
      const exit = await service.stop();
      const leftovers = [...serverPids].filter((pid) => isProcessAlive(pid) || isProcessGroupAlive(pid));
      for (const pid of leftovers) signalProcess(pid, 'SIGKILL', true);
      if (leftovers.length > 0)
        throw new Error(
          `Stream Cache Servers still running after the service stopped (killed now): ${leftovers.join(', ')}`,
        );
      if (exit.code !== 0)
        throw new Error(
          `the service exited with code ${exit.code} (signal ${exit.signal}):\n${service.output.join('')}`,
        );
    }, 'sc-spawner service process');

    // ---- Chromium, with a throw-away profile (removed after the browser has closed)
    const profile = makeTempDir(cleanup, 'sc-dashboard-chromium-');
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: chromiumPath,
      headless: true,
      viewport: LAPTOP,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    cleanup.add(() => context.close(), 'chromium');
    const page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(UI_TIMEOUT_MS);
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));

    // ---- an empty service: ready, 0 of 2 in use, live event feed
    await page.goto(`${service.url}/`);
    const byTestId = (id: string, root: Page | Locator = page) => root.locator(`[data-testid="${id}"]`);
    await expectText(byTestId('readiness'), 'Accepting viewers');
    await expectText(byTestId('capacity-text'), '0 / 2');
    await waitForAttribute(byTestId('link-status'), 'data-link', 'live');
    await expectVisible(byTestId('empty-state'));

    // ---- two viewers, one CSR and one SSR, requested back to back
    await byTestId('renderer-csr').check();
    await byTestId('create-button').click();
    await byTestId('renderer-ssr').check();
    await byTestId('create-button').click();

    const cards = byTestId('session-card');
    const connected = page.locator('[data-testid="session-card"][data-ws="connected"][data-state="connected"]');
    await waitFor(async () => (await connected.count()) === 2 && (await cards.count()) === 2, UI_TIMEOUT_MS, {
      description: 'two cards whose session is connected and whose WebSocket is open',
    }).catch(async (error: Error) => {
      throw new Error(
        `${error.message}\ncards now:\n${await describeCards(page)}\nservice output:\n${service.output.join('').slice(-3000)}`,
      );
    });
    for (const card of await connected.all()) {
      await expectText(byTestId('ws-status', card), 'hello received');
      await expectVisible(byTestId('session-hello', card));
      expect(await byTestId('hello-model', card).textContent()).not.toBe('');
    }
    const renderers = await cards.evaluateAll((nodes) =>
      nodes.map((n) => n.querySelector('[data-testid="hello-renderer"]')?.textContent).sort(),
    );
    expect(renderers).toEqual(['CSR', 'SSR']);
    // Each card says how its session was created: these through POST /spawn.
    const origins = await cards.evaluateAll((nodes) =>
      nodes.map((n) => n.querySelector('[data-testid="session-origin"]')?.textContent),
    );
    expect(origins).toEqual(['API', 'API']);
    await expectText(byTestId('capacity-text'), '2 / 2');
    await waitForAttribute(byTestId('readiness'), 'data-ready', 'false');
    await notePids();

    // ---- both slots taken: "Create New Viewer" is off, and the page says why
    await waitFor(() => byTestId('create-button').isDisabled(), UI_TIMEOUT_MS, {
      description: 'the create button to be disabled at capacity',
    });
    await expectText(byTestId('create-blocked'), 'at capacity: all 2 spawn slots in use');
    // Had another tab taken the last slot, the service's 503 still reaches the page readably.
    await byTestId('create-button').evaluate((node) => {
      const button = node as unknown as { disabled: boolean; click(): void };
      button.disabled = false;
      button.click();
    });
    const capacityError = page.locator('[data-testid="error-message"][data-status="503"]');
    await expectVisible(capacityError);
    await expectText(byTestId('error-title', capacityError), 'no capacity');
    expect((await byTestId('error-detail', capacityError).textContent())!.length).toBeGreaterThan(10);
    expect(await cards.count()).toBe(2);
    await screenshot(page, 'dashboard-laptop-at-capacity', LAPTOP);
    await screenshot(page, 'dashboard-phone-at-capacity', PHONE);
    await page.setViewportSize(LAPTOP);

    // ---- close one: its process is gone, its card greys out with the reason, the other stays connected
    const spawns = await listSpawns(service.url);
    const firstCard = cards.first();
    const closedId = (await firstCard.getAttribute('data-session-id'))!;
    const closedPid = spawns.find((s) => s.id === closedId)?.pid;
    expect(closedPid).toBeGreaterThan(0);
    expect(isProcessAlive(closedPid!)).toBe(true);
    await byTestId('close-button', firstCard).click();

    const closedCard = page.locator(`[data-testid="session-card"][data-session-id="${closedId}"]`);
    await waitForAttribute(closedCard, 'data-ended', 'true');
    await expectVisible(byTestId('session-end', closedCard));
    await expectText(byTestId('session-end', closedCard), 'Ended');
    await expectText(byTestId('session-state', closedCard), 'Exited');
    await waitFor(
      () => {
        try {
          process.kill(closedPid!, 0);
        } catch {
          return true; // ESRCH: no such process
        }
        return !isProcessAlive(closedPid!); // exited but not reaped yet counts as gone
      },
      10_000,
      { description: `Stream Cache Server pid ${closedPid} to be gone after Close` },
    );
    await expectText(byTestId('capacity-text'), '1 / 2');
    await waitForAttribute(byTestId('readiness'), 'data-ready', 'true');
    // The close worked: the earlier 503 banner is gone, and creating is possible again.
    await waitFor(async () => (await capacityError.count()) === 0, 5000, { description: 'the 503 banner to clear' });
    expect(await byTestId('create-button').isDisabled()).toBe(false);
    // The chart draws the service's history: the sessions line and the start-up minute(s), on labelled axes.
    await waitFor(async () => (await byTestId('chart-startup').count()) >= 1, UI_TIMEOUT_MS, {
      description: 'a start-up time in the history chart',
    });
    expect(await byTestId('chart-sessions').count()).toBe(1);
    expect(await connected.count()).toBe(1);
    // Live and ended sessions in separate lists, each count meaning what it says.
    await waitFor(async () => (await byTestId('session-card', byTestId('ended-cards')).count()) === 1, 5000, {
      description: 'the closed card in the ended list',
    });
    expect(await byTestId('session-card', byTestId('cards')).count()).toBe(1);
    expect(await byTestId('session-count').textContent()).toBe('1');
    expect(await byTestId('ended-count').textContent()).toBe('1');
    expect(await byTestId('session-end', closedCard).textContent()).not.toMatch(/code (\d+).*code \1/);

    // ---- a fresh tab knows the last hour at once: the history chart with its axes, and both lists
    const fresh = await context.newPage();
    const freshErrors: string[] = [];
    fresh.on('pageerror', (error) => freshErrors.push(error.message));
    await fresh.setViewportSize(LAPTOP);
    await fresh.goto(`${service.url}/`);
    const inFresh = (id: string, root: Page | Locator = fresh) => root.locator(`[data-testid="${id}"]`);
    await waitFor(async () => (await inFresh('chart-startup').count()) >= 1, UI_TIMEOUT_MS, {
      description: 'the history chart on a fresh tab',
    });
    expect(await inFresh('chart-sessions').count()).toBe(1);
    const xLabels = await inFresh('chart-x-label').allTextContents();
    expect(xLabels).toEqual(['−60 min', '−45 min', '−30 min', '−15 min', 'now']);
    const yLabels = await fresh.locator('[data-testid="chart"] .axis-label').allTextContents();
    expect(yLabels).toEqual(expect.arrayContaining(['0', '0 ms']));
    expect(yLabels.some((label) => / (ms|s)$/.test(label) && label !== '0 ms')).toBe(true);
    expect(await fresh.locator('[data-testid="chart"] .axis-title').allTextContents()).toEqual(['count', 'start-up']);
    await waitFor(async () => (await inFresh('session-card', inFresh('ended-cards')).count()) === 1, UI_TIMEOUT_MS, {
      description: 'the ended session in its own list on the fresh tab',
    });
    expect(await inFresh('session-card', inFresh('cards')).count()).toBe(1);
    await expectText(inFresh('session-count'), '1');
    await expectText(inFresh('free-ports'), '3 free ports');
    // Dots are round: the chart keeps its aspect ratio.
    const box = await inFresh('chart-startup').first().boundingBox();
    expect(Math.abs(box!.width - box!.height)).toBeLessThan(0.5);
    await fresh.waitForTimeout(400);
    await fresh.screenshot({ path: path.join(ARTIFACTS, 'dashboard-fresh-tab.png') });
    if (process.env.UPDATE_DOCS_SCREENSHOT === '1')
      await fresh.screenshot({ path: path.join(REPO_ROOT, 'docs', 'dashboard.png') });
    expect(freshErrors).toEqual([]);
    await fresh.close();
    await expectVisible(byTestId('dismiss-button', closedCard));
    await screenshot(page, 'dashboard-laptop-after-close', LAPTOP);
    await screenshot(page, 'dashboard-phone-after-close', PHONE);
    await page.setViewportSize(LAPTOP);

    // ---- dismiss the ended card
    await byTestId('dismiss-button', closedCard).click();
    await waitFor(async () => (await cards.count()) === 1, 5000, { description: 'the ended card to be dismissed' });
    expect(await closedCard.count()).toBe(0);

    // ---- a session started elsewhere (the API) is Ready with no viewer: its card's button attaches one from here
    const started = await fetch(`${service.url}/spawn`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(started.status).toBe(200);
    const otherCard = page.locator(
      `[data-testid="session-card"][data-session-id="${((await started.json()) as { id: string }).id}"]`,
    );
    await expectVisible(byTestId('connect-button', otherCard));
    await notePids();
    await byTestId('connect-button', otherCard).click();
    await waitForAttribute(otherCard, 'data-ws', 'connected');
    await expectText(byTestId('ws-status', otherCard), 'hello received');
    await waitForAttribute(otherCard, 'data-state', 'connected');
    expect(await byTestId('connect-button', otherCard).isHidden()).toBe(true);

    expect(pageErrors).toEqual([]);
  }, 120_000);
});

describe('dashboard under the node prefix (e2e, browser)', () => {
  const cleanup = useCleanup();

  it('loaded at /n/<NODE_NAME>/ (as through a balancer) it reads, streams and spawns under that prefix only', async () => {
    const chromiumPath = requireSystemBinary(CHROMIUM, 'chromium');
    const app = await startApp({
      ...FAST_TIMINGS,
      SPAWN_READY_TIMEOUT_S: '15',
      NODE_NAME: 'node-d',
      SC_PORT_BASE: '27400', // the scale-out range
      SC_PORT_COUNT: '2',
      SC_MAX_SPAWNS: '1',
    });
    cleanup.add(() => app.close(), 'in-process app');
    const profile = makeTempDir(cleanup, 'sc-dashboard-chromium-');
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: chromiumPath,
      headless: true,
      viewport: LAPTOP,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    });
    cleanup.add(() => context.close(), 'chromium');
    const page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(UI_TIMEOUT_MS);
    const requested: string[] = [];
    page.on('request', (r) => requested.push(new URL(r.url()).pathname));
    page.on('websocket', (ws) => requested.push(new URL(ws.url()).pathname));
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));

    // The page keeps no copy of the states: a label changed on the way from GET api/states shows on its card.
    await page.route('**/api/states', async (route) => {
      const response = await route.fetch();
      const body = (await response.json()) as { states: { name: string; label: string }[] };
      for (const state of body.states) if (state.name === 'connected') state.label = 'Connected (as served)';
      await route.fulfill({ response, json: body });
    });

    await page.goto(`${app.url}/n/node-d`); // redirected to /n/node-d/
    expect(new URL(page.url()).pathname).toBe('/n/node-d/');
    // The redirect is relative, so a balancer's path prefix (PUBLIC_BASE_URL with a path) is kept.
    const bare = await fetch(`${app.url}/n/node-d?x=1`, { redirect: 'manual' });
    expect(bare.status).toBe(308);
    const location = bare.headers.get('location')!;
    expect(new URL(location, 'https://lb.example/sc/n/node-d?x=1').href).toBe('https://lb.example/sc/n/node-d/?x=1');
    const byTestId = (id: string, root: Page | Locator = page) => root.locator(`[data-testid="${id}"]`);
    await expectText(byTestId('readiness'), 'Accepting viewers');
    await waitForAttribute(byTestId('link-status'), 'data-link', 'live');
    await byTestId('create-button').click();
    const connected = page.locator('[data-testid="session-card"][data-ws="connected"][data-state="connected"]');
    await waitFor(async () => (await connected.count()) === 1, UI_TIMEOUT_MS, {
      description: 'the card of a connected session',
    });
    await expectText(byTestId('session-state', connected), 'Connected (as served)');
    const [spawn] = await listSpawns(app.url);
    expect(requested.length).toBeGreaterThan(4);
    for (const pathname of requested) expect(pathname).toMatch(/^\/n\/node-d(\/|$)/); // the first is the redirected /n/node-d
    expect(requested).toEqual(
      expect.arrayContaining([
        '/n/node-d/assets/main.js',
        '/n/node-d/assets/states.js',
        '/n/node-d/api/states',
        '/n/node-d/events',
        '/n/node-d/spawn',
        '/n/node-d/health',
        new URL(spawn.links.ws).pathname,
      ]),
    );
    expect(pageErrors).toEqual([]);
  });
});

describe('dashboard with API keys in a browser (e2e)', () => {
  const cleanup = useCleanup();
  const KEY = 'k3y-dashboard-0123456789';
  const KEYED_PORT_BASE = 25800;

  it('asks for the key on 401, keeps it for the tab, then works: a viewer created, events flowing, no console errors', async () => {
    const chromiumPath = requireSystemBinary(CHROMIUM, 'chromium');
    mkdirSync(ARTIFACTS, { recursive: true });
    const service = await startServiceProcess(await freePort(), {
      ...FAST_TIMINGS,
      SPAWN_READY_TIMEOUT_S: '15',
      SC_MAX_SPAWNS: '2',
      SC_PORT_BASE: String(KEYED_PORT_BASE),
      SC_PORT_COUNT: '4',
      API_KEYS: KEY,
    });
    cleanup.add(async () => {
      const exit = await service.stop();
      if (exit.code !== 0) throw new Error(`the service exited with code ${exit.code}:\n${service.output.join('')}`);
    }, 'sc-spawner service process');
    const profile = makeTempDir(cleanup, 'sc-dashboard-keyed-');
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: chromiumPath,
      headless: true,
      viewport: LAPTOP,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    });
    cleanup.add(() => context.close(), 'chromium');
    const page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(UI_TIMEOUT_MS);
    const pageErrors: string[] = [];
    const consoleErrors: { text: string; afterKey: boolean }[] = [];
    let keyGiven = false;
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push({ text: message.text(), afterKey: keyGiven });
    });
    const byTestId = (id: string, root: Page | Locator = page) => root.locator(`[data-testid="${id}"]`);

    await page.goto(`${service.url}/`);
    await expectVisible(byTestId('key-form'));
    await expectText(byTestId('key-message'), 'needs an API key');
    await expectText(byTestId('capacity-text'), '0 / 2'); // /health is open
    // The empty state agrees with the capacity panel: it asks for the key rather than claiming there is nothing.
    await expectText(byTestId('empty-state'), 'No live sessions. Enter the API key above');
    await screenshot(page, 'dashboard-laptop-key-form', LAPTOP);
    await screenshot(page, 'dashboard-phone-key-form', PHONE);
    await page.setViewportSize(LAPTOP);

    // A wrong key is refused and asked for again.
    await byTestId('key-input').fill('not-the-key-000000000');
    await byTestId('key-submit').click();
    await expectText(byTestId('key-message'), 'refused');
    // Requests sent with the wrong key in parallel may still be answered (and logged) after the first refusal:
    // wait until no new console error has come for a while before the right key is given.
    let seen = -1;
    await waitFor(
      async () => {
        const now = consoleErrors.length;
        const settled = now === seen;
        seen = now;
        if (!settled) await sleep(500);
        return settled;
      },
      UI_TIMEOUT_MS,
      { description: 'the refused requests to be answered' },
    );
    // While it waits for a key the page sends nothing bound to be refused (the cost panel refreshes every 3 s).
    await sleep(3500);
    expect(consoleErrors.length).toBe(seen);
    keyGiven = true;
    await byTestId('key-input').fill(KEY);
    const beforeGoodKey = consoleErrors.length;
    await byTestId('key-submit').click();
    await waitFor(async () => !(await byTestId('key-form').isVisible()), UI_TIMEOUT_MS, {
      description: 'the key form to go away',
    });
    await waitForAttribute(byTestId('link-status'), 'data-link', 'live');
    expect(
      await page.evaluate(
        () => (globalThis as unknown as { sessionStorage: { length: number } }).sessionStorage.length,
      ),
    ).toBe(1);

    await byTestId('create-button').click();
    const connected = page.locator('[data-testid="session-card"][data-state="connected"]');
    await waitFor(async () => (await connected.count()) === 1, UI_TIMEOUT_MS, {
      description: 'a connected card (its state changes arrive over the keyed event stream)',
    });
    await expectText(byTestId('capacity-text'), '1 / 2');
    await screenshot(page, 'dashboard-laptop-keyed', LAPTOP);
    await screenshot(page, 'dashboard-phone-keyed', PHONE);

    // A reload in the same tab keeps the key: no form, no 401.
    const errorsBeforeReload = consoleErrors.length;
    await page.reload();
    await waitForAttribute(byTestId('link-status'), 'data-link', 'live');
    await waitFor(async () => (await byTestId('session-card').count()) === 1, UI_TIMEOUT_MS, {
      description: 'the session card after the reload',
    });
    expect(await byTestId('key-form').isVisible()).toBe(false);

    expect(pageErrors).toEqual([]);
    // The only console errors are the 401s that asked for a key, never after the right one was given.
    expect(consoleErrors.slice(beforeGoodKey)).toEqual([]);
    expect(consoleErrors.slice(errorsBeforeReload)).toEqual([]);
    for (const error of consoleErrors) expect(error.text).toMatch(/401/);
    expect(service.output.join('')).not.toContain(KEY);
  }, 120_000);
});

describe('dashboard routes (e2e, no browser)', () => {
  const cleanup = useCleanup();

  it('serves the page and its assets at / and /assets/ without shadowing the API', async () => {
    const app = await startApp({
      ...FAST_TIMINGS,
      SC_PORT_BASE: String(PORT_BASE + PORT_COUNT),
      SC_PORT_COUNT: '2',
      SC_MAX_SPAWNS: '1',
    });
    cleanup.add(() => app.close(), 'in-process app');

    const page = await fetch(`${app.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await page.text();
    expect(html).toContain('Create New Viewer');
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // no inline script: the CSP forbids it
    expect(html).not.toMatch(/https?:\/\//); // nothing from a CDN: machines may be offline

    for (const [file, type] of [
      ['main.js', /^text\/javascript/],
      ['states.js', /^text\/javascript/],
      ['styles.css', /^text\/css/],
      ['favicon.svg', /^image\/svg\+xml/],
    ] as const) {
      const asset = await fetch(`${app.url}/assets/${file}`);
      expect(asset.status).toBe(200);
      expect(asset.headers.get('content-type')).toMatch(type);
      expect(asset.headers.get('x-content-type-options')).toBe('nosniff');
      // Revalidated by its ETag: unchanged, it is not sent again.
      const etag = asset.headers.get('etag');
      expect(etag).toBeTruthy();
      await asset.arrayBuffer();
      // (node:http: fetch() turns a conditional request into an uncached one)
      const again = await new Promise<number>((resolve, reject) =>
        get(`${app.url}/assets/${file}`, { headers: { 'if-none-match': etag! } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        }).on('error', reject),
      );
      expect(again).toBe(304);
    }
    for (const bad of ['nope.js', 'index.html', '..%2Fdashboard.module.ts', '%2E%2E%2F%2E%2E%2Fpackage.json']) {
      expect((await fetch(`${app.url}/assets/${bad}`)).status).toBe(404);
    }

    // The states the page draws, from the supervisor's own table. API answers carry no ETag (none is hashed).
    const statesAnswer = await fetch(`${app.url}/api/states`);
    expect(statesAnswer.headers.get('etag')).toBeNull();
    const states = (await statesAnswer.json()) as {
      states: { name: string; label: string; terminal: boolean; rank: number }[];
    };
    expect(states.states.map((s) => s.name)).toEqual([
      'starting',
      'ready',
      'connected',
      'disconnected',
      'unresponsive',
      'timed_out',
      'terminating',
      'failed',
      'exited',
    ]);
    expect(states.states.find((s) => s.name === 'timed_out')).toEqual({
      name: 'timed_out',
      label: 'Timed out',
      terminal: false,
      rank: 3,
    });
    expect(states.states.filter((s) => s.terminal).map((s) => s.name)).toEqual(['failed', 'exited']);

    // The API around it is untouched.
    expect((await fetch(`${app.url}/health`)).status).toBe(200);
    expect(await (await fetch(`${app.url}/spawns`)).json()).toEqual([]);
    expect((await fetch(`${app.url}/docs`)).headers.get('content-type')).toMatch(/^text\/html/);
    const docs = (await (await fetch(`${app.url}/docs-json`)).json()) as { paths: Record<string, unknown> };
    // The page is documented as what it is (HTML), like every route.
    expect(docs.paths['/']).toEqual({ get: expect.objectContaining({ tags: ['dashboard'] }) });
    expect(Object.keys(docs.paths)).toEqual(expect.arrayContaining(['/spawn', '/spawns', '/health', '/health/ready']));
    expect((await fetch(`${app.url}/spawns/no-such-id`)).status).toBe(404);
  });
});

async function expectText(locator: Locator, text: string): Promise<void> {
  await waitFor(
    async () => ((await locator.first().textContent()) ?? '').toLowerCase().includes(text.toLowerCase()),
    UI_TIMEOUT_MS,
    {
      description: `"${text}" in ${locator.toString()}`,
    },
  ).catch(async (error: Error) => {
    throw new Error(
      `${error.message}; text now: ${JSON.stringify(
        await locator
          .first()
          .textContent()
          .catch(() => null),
      )}`,
    );
  });
}

async function expectVisible(locator: Locator): Promise<void> {
  await locator.first().waitFor({ state: 'visible', timeout: UI_TIMEOUT_MS });
}

async function waitForAttribute(locator: Locator, name: string, value: string): Promise<void> {
  await waitFor(async () => (await locator.first().getAttribute(name)) === value, UI_TIMEOUT_MS, {
    description: `${name}="${value}" on ${locator.toString()}`,
  }).catch(async (error: Error) => {
    throw new Error(
      `${error.message}; it is now ${JSON.stringify(
        await locator
          .first()
          .getAttribute(name)
          .catch(() => null),
      )}`,
    );
  });
}

/** The little of a DOM element the page-side callbacks use (this project compiles without the DOM typings). */
interface MiniElement {
  dataset: Record<string, string | undefined>;
  querySelector(selector: string): { textContent: string | null } | null;
}

/** For failure messages: what each card shows. */
async function describeCards(page: Page): Promise<string> {
  return page
    .locator('[data-testid="session-card"]')
    .evaluateAll((nodes) =>
      nodes
        .map((n) => {
          const el = n as unknown as MiniElement;
          const text = (id: string) => el.querySelector(`[data-testid="${id}"]`)?.textContent ?? '';
          return `  ${el.dataset.sessionId} state=${el.dataset.state} ws=${el.dataset.ws}: ${text('ws-status')} | ${text('session-end')}`;
        })
        .join('\n'),
    )
    .catch((error: Error) => `  (could not read the cards: ${error.message})`);
}

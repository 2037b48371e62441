/**
 * The dashboard with a warm pool, in Chromium: the "warm" figure beside the capacity, unclaimed warm servers
 * kept out of the session list, and a viewer created from the page marked as handed out warm.
 * Without /usr/bin/chromium this test fails and says to run `npm run setup`.
 */
import { mkdirSync } from 'fs';
import * as path from 'path';
import { chromium, type Locator } from 'playwright-core';
import { useCleanup } from './support/processes';
import { FAST_TIMINGS, REPO_ROOT } from './support/spawner-app';
import { startTrackedApp } from './support/spawner-e2e';
import { requireSystemBinary } from './support/system-packages';
import { makeTempDir } from './support/temp';
import { waitFor } from './support/wait';

const ARTIFACTS = path.join(REPO_ROOT, 'test-artifacts');
const UI_TIMEOUT_MS = 20_000;

async function textOf(locator: Locator, expected: string | RegExp): Promise<string> {
  let last = '';
  return waitFor(
    async () => {
      last = ((await locator.first().textContent()) ?? '').trim();
      return (typeof expected === 'string' ? last === expected : expected.test(last)) ? last : undefined;
    },
    UI_TIMEOUT_MS,
    { description: () => `${String(expected)} in ${locator.toString()} (now "${last}")` },
  );
}

describe('dashboard with a warm pool (e2e, Chromium)', () => {
  const cleanup = useCleanup();

  it('shows the warm figure, hides unclaimed warm servers, and marks a warm-claimed session', async () => {
    const chromiumPath = requireSystemBinary('/usr/bin/chromium', 'chromium');
    const app = await startTrackedApp(cleanup, {
      ...FAST_TIMINGS,
      SC_PORT_BASE: '26400',
      SC_PORT_COUNT: '20',
      SC_MAX_SPAWNS: '4',
      SC_WARM_POOL_CSR: '2',
    });
    const profile = makeTempDir(cleanup, 'sc-warm-dashboard-');
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: chromiumPath,
      headless: true,
      viewport: { width: 1280, height: 800 },
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    });
    cleanup.add(() => context.close(), 'chromium');
    const page = context.pages()[0] ?? (await context.newPage());
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    const byTestId = (id: string) => page.locator(`[data-testid="${id}"]`);

    await page.goto(`${app.url}/`);
    await textOf(byTestId('warm-count'), '2 / 2');
    expect(await byTestId('warm-figure').isVisible()).toBe(true);
    await textOf(byTestId('capacity-text'), '2 / 4');
    expect(await byTestId('session-card').count()).toBe(0); // warm servers are capacity, not sessions

    await byTestId('create-button').click();
    const card = byTestId('session-card');
    await card.first().waitFor({ state: 'visible', timeout: UI_TIMEOUT_MS });
    // The card may come first from the event stream, then from the answer that says the server was claimed.
    await card.first().locator('[data-testid="session-warm"]').waitFor({ state: 'visible', timeout: UI_TIMEOUT_MS });
    const id = ((await card.first().locator('[data-testid="session-id"]').textContent()) ?? '').trim();
    expect(app.supervisor.get(id)?.claimedAt).toBeDefined();
    // The replacement fills the pool again; still one session card.
    await textOf(byTestId('warm-count'), '2 / 2');
    await textOf(byTestId('capacity-text'), '3 / 4');
    expect(await card.count()).toBe(1);
    expect(pageErrors).toEqual([]);

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.waitForTimeout(300);
    await page.screenshot({ path: path.join(ARTIFACTS, 'warm-dashboard.png'), fullPage: true });
  });
});

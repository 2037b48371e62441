/**
 * End to end in Chromium: a page of another site that frames the service's own pages (Swagger UI at /docs/, whose
 * "Try it out" sends requests with the key its user authorised, and the dashboard) gets empty frames: clickjacking
 * needs the framed page to show. The built service runs as a real process; the hostile page is served from another
 * origin (127.0.0.2).
 * Without /usr/bin/chromium this test fails and says to run `npm run setup`; it never passes silently.
 */
import { createServer, type Server } from 'http';
import type { AddressInfo } from 'net';
import { chromium, type Frame } from 'playwright-core';
import { useCleanup } from './support/processes';
import { FAST_TIMINGS, startServiceProcess } from './support/spawner-app';
import { requireSystemBinary } from './support/system-packages';
import { makeTempDir } from './support/temp';
import { waitFor } from './support/wait';

/** This file's ports (31600-31699): the service on 31600, its servers above. */
const SERVICE_PORT = 31600;
const ENV = { ...FAST_TIMINGS, SC_PORT_BASE: '31601', SC_PORT_COUNT: '2' };

/** The hostile site: one page that frames `targets`, from an origin of its own. */
async function hostileSite(targets: string[]): Promise<{ server: Server; url: string }> {
  const frames = targets.map((src, i) => `<iframe name="f${i}" src="${src}" width="800" height="400"></iframe>`);
  const server = createServer((_request, response) =>
    response.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><body>${frames.join('')}</body>`),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.2', resolve));
  return { server, url: `http://127.0.0.2:${(server.address() as AddressInfo).port}/` };
}

describe('framed by another site (e2e, browser)', () => {
  const cleanup = useCleanup();

  it('Swagger UI and the dashboard refuse to show in a frame of another origin; opened directly, they show', async () => {
    const chromiumPath = requireSystemBinary('/usr/bin/chromium', 'chromium');
    const service = await startServiceProcess(SERVICE_PORT, ENV);
    cleanup.add(() => service.stop(5000), `service process ${service.child.pid}`);
    const targets = [`${service.url}/docs/`, `${service.url}/`];
    const site = await hostileSite(targets);
    cleanup.add(() => new Promise<void>((resolve) => site.server.close(() => resolve())), 'hostile site');
    const context = await chromium.launchPersistentContext(makeTempDir(cleanup, 'sc-framing-chromium-'), {
      executablePath: chromiumPath,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    });
    cleanup.add(() => context.close(), 'chromium');
    const page = context.pages()[0] ?? (await context.newPage());

    // What each page shows when opened directly: the test would pass for nothing if it showed nothing anyway.
    const shows = async (frame: Frame | null, selector: string) =>
      frame !== null &&
      (await frame
        .locator(selector)
        .count()
        .catch(() => 0)) > 0;
    const SHOWN = ['#swagger-ui', '[data-testid="readiness"]'];
    for (const [i, target] of targets.entries()) {
      await page.goto(target);
      await waitFor(() => shows(page.mainFrame(), SHOWN[i]), 10_000, { description: `${target} to show` });
    }

    const blocked: string[] = [];
    page.on('console', (message) => blocked.push(message.text()));
    await page.goto(site.url);
    await waitFor(() => blocked.filter((text) => /frame/i.test(text)).length >= 2, 10_000, {
      description: () => `Chromium to report both frames refused; console: ${JSON.stringify(blocked)}`,
    });
    for (const [i] of targets.entries()) {
      expect({ frame: i, shows: await shows(page.frame({ name: `f${i}` }), SHOWN[i]) }).toEqual({
        frame: i,
        shows: false,
      });
    }
    expect(blocked.filter((text) => /frame-ancestors 'none'/.test(text))).toHaveLength(2);
  });
});

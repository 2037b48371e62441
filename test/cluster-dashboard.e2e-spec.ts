/**
 * The dashboard's cluster view in Chromium (playwright-core), on three real nodes behind real HAProxy
 * (deploy/haproxy/haproxy.cfg): one row per node, then the killed node shown unreachable; a session's Stop
 * goes to its own node through the balancer (/n/<node>/spawns/<id>), whichever node served the page.
 */
import { chromium, type Locator, type Page } from 'playwright-core';
import request from 'supertest';
import { startHaproxy, type BalancedNode } from './support/haproxy';
import { freePort } from './support/ports';
import { signalProcess, useCleanup } from './support/processes';
import { FAST_TIMINGS, startApp, startServiceProcess, type ServiceProcess } from './support/spawner-app';
import { requireSystemBinary } from './support/system-packages';
import { makeTempDir } from './support/temp';
import { waitFor } from './support/wait';

const PORT_BASE = 29200;
const NAMES = ['node-a', 'node-b', 'node-c'] as const;
const UI_TIMEOUT_MS = 20_000;
jest.setTimeout(150_000);

async function rowStates(page: Page): Promise<Record<string, string>> {
  const rows = page.locator('[data-testid="cluster-row"]');
  const states: Record<string, string> = {};
  for (const row of await rows.all()) {
    states[(await row.getAttribute('data-node'))!] = (await row.getAttribute('data-state'))!;
  }
  return states;
}

async function expectRows(page: Page, expected: Record<string, string>): Promise<void> {
  await waitFor(async () => JSON.stringify(await rowStates(page)) === JSON.stringify(expected), UI_TIMEOUT_MS, {
    description: () => `cluster rows ${JSON.stringify(expected)}`,
  });
}

describe('dashboard cluster view in a browser (e2e: three nodes behind HAProxy)', () => {
  const cleanup = useCleanup();

  /** A page of headless Chromium (a profile of its own), closed with the test. */
  async function openPage(): Promise<Page> {
    const chromiumPath = requireSystemBinary('/usr/bin/chromium', 'chromium');
    const context = await chromium.launchPersistentContext(makeTempDir(cleanup, 'sc-cluster-chromium-'), {
      executablePath: chromiumPath,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-sync'],
    });
    cleanup.add(() => context.close(), 'chromium');
    const page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(UI_TIMEOUT_MS);
    return page;
  }

  it('shows three rows, stops a session on its own node through the balancer, then shows the killed node unreachable', async () => {
    const placed: BalancedNode[] = [];
    for (const name of NAMES) placed.push({ name, port: await freePort(), agentPort: await freePort() });
    const lb = await startHaproxy(placed, cleanup);
    const peers = placed.map((node) => `http://127.0.0.1:${node.port}`).join(',');
    const nodes = new Map<string, ServiceProcess>();
    await Promise.all(
      placed.map(async (node, index) => {
        const service = await startServiceProcess(
          node.port,
          {
            ...FAST_TIMINGS,
            NODE_NAME: node.name,
            AGENT_CHECK_PORT: String(node.agentPort),
            SC_MAX_SPAWNS: '2',
            SC_PORT_BASE: String(PORT_BASE + 10 * index),
            SC_PORT_COUNT: '4',
            PUBLIC_BASE_URL: lb.url,
            SC_PEERS: peers,
          },
          { startTimeoutMs: 60_000 },
        );
        cleanup.add(() => service.stop(5000), `node ${node.name}`);
        nodes.set(node.name, service);
      }),
    );
    await waitFor(async () => (await request(lb.url).get('/health/ready')).status === 200, 10_000);
    const onC = (await request(nodes.get('node-c')!.url).post('/spawn').send({}).expect(200)).body as { id: string };

    const page = await openPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    const deletes: string[] = [];
    page.on('request', (r) => {
      if (r.method() === 'DELETE') deletes.push(new URL(r.url()).pathname);
    });

    // The page from node-a (through its prefix on the balancer): the whole fleet, node-c's session listed.
    await page.goto(`${lb.url}/n/node-a/`);
    await expectRows(page, { 'node-a': 'ready', 'node-b': 'ready', 'node-c': 'ready' });
    const session: Locator = page.locator(`[data-testid="cluster-session"][data-node="node-c"]`);
    await waitFor(async () => (await session.count()) === 1, UI_TIMEOUT_MS, { description: "node-c's session" });
    expect(await session.textContent()).toContain(onC.id);
    expect(await page.locator('[data-testid="cluster-totals"]').textContent()).toMatch(/3 nodes \(3 ready\)/);

    await session.locator('[data-testid="cluster-session-stop"]').click();
    await waitFor(
      async () => {
        const view = (await request(nodes.get('node-c')!.url).get(`/spawns/${onC.id}`).expect(200)).body as {
          endedAt: string | null;
        };
        return view.endedAt !== null;
      },
      UI_TIMEOUT_MS,
      { description: "node-c's session to end" },
    );
    expect(deletes).toEqual([`/n/node-c/spawns/${onC.id}`]);
    await waitFor(async () => (await session.count()) === 0, UI_TIMEOUT_MS, { description: 'the session row to go' });

    // node-c dies: its row turns unreachable, the others stay.
    const nodeC = nodes.get('node-c')!;
    signalProcess(nodeC.child.pid!, 'SIGKILL');
    await nodeC.exited;
    await expectRows(page, { 'node-a': 'ready', 'node-b': 'ready', 'node-c': 'unreachable' });
    expect(await page.locator('[data-testid="cluster-row"][data-node="node-c"]').textContent()).toMatch(/Unreachable/);
    expect(pageErrors).toEqual([]);
  });

  it("Stop goes to the row's own node and id, whatever links a node sent; a session without links still shows", async () => {
    const app = await startApp({ NODE_NAME: 'node-a', SC_PORT_BASE: String(PORT_BASE + 40), SC_PORT_COUNT: '4' });
    cleanup.add(() => app.close(), 'in-process node');
    const real = (await request(app.url).post('/spawn').send({}).expect(200)).body as { id: string };
    const onEvil = '9d2f4c1e-7a3b-4e5d-8c6f-1a2b3c4d5e6f';
    const noLinks = '7d2f4c1e-7a3b-4e5d-8c6f-1a2b3c4d5e6f';
    // What a lying node (or a node of an older version) may have sent: a row whose links point at node-a's session.
    const answer = {
      nodes: [{ name: 'evil', url: 'http://evil', state: 'ready' }],
      spawns: [
        { id: onEvil, node: 'evil', state: 'ready', links: { self: `/n/node-a/spawns/${real.id}` } },
        { id: noLinks, node: 'evil', state: 'ready' },
      ],
    };

    const page = await openPage();
    await page.route('**/cluster/spawns', (route) => route.fulfill({ json: answer }));
    const deletes: string[] = [];
    page.on('request', (r) => {
      if (r.method() === 'DELETE') deletes.push(new URL(r.url()).pathname);
    });

    await page.goto(`${app.url}/`);
    const rows = page.locator('[data-testid="cluster-session"][data-node="evil"]');
    await waitFor(async () => (await rows.count()) === 2, UI_TIMEOUT_MS, { description: "evil's two sessions" });
    await rows.filter({ hasText: onEvil }).locator('[data-testid="cluster-session-stop"]').click();
    await waitFor(() => deletes.length === 1, UI_TIMEOUT_MS, { description: 'the DELETE' });
    expect(deletes).toEqual([`/n/evil/spawns/${onEvil}`]);
    const view = (await request(app.url).get(`/spawns/${real.id}`).expect(200)).body as { endedAt: string | null };
    expect(view.endedAt).toBeNull();
  });
});

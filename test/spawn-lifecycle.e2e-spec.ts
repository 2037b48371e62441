/**
 * End to end, with real simulator processes, real HTTP and real WebSockets: a spawn's whole life,
 * request validation, the liveliness endpoint, renderer switches, health and Swagger.
 * Processes are checked through the OS (pid, process group, /proc), not through the service's word.
 */
import { isLeased } from './fakes';
import { chmodSync, unlinkSync, writeFileSync } from 'fs';
import { join } from 'path';
import request from 'supertest';
import { PortAllocator } from '../src/ports/port-allocator.service';
import { useCleanup } from './support/processes';
import { FAST_TIMINGS } from './support/spawner-app';
import {
  argAfter,
  canBindPort,
  getSpawn,
  postSpawn,
  procArgv,
  procEnv,
  procStat,
  rawRequest,
  startTrackedApp,
  waitForProcessGone,
  waitForSpawnState,
  type SpawnView,
} from './support/spawner-e2e';
import { registeredRoutes } from './support/operable';
import { makeTempDir } from './support/temp';
import { connectViewer } from './support/viewer-client';
import { waitFor } from './support/wait';

const PORT_BASE = 21000;
const ENV = { ...FAST_TIMINGS, SC_PORT_BASE: String(PORT_BASE) };

describe('spawn lifecycle (e2e)', () => {
  const cleanup = useCleanup();

  it('spawn -> WebSocket hello through the endpoint -> viewer closes -> exited with code 0, process gone, port reusable', async () => {
    // One port only, so the next spawn can only succeed if the first one's port really came back.
    const app = await startTrackedApp(cleanup, { ...ENV, SC_MAX_SPAWNS: '1', SC_PORT_COUNT: '1' });

    const response = await postSpawn(app.url, {});
    expect(response.status).toBe(200);
    const spawn = response.body as SpawnView;
    expect(spawn).toMatchObject({
      state: 'ready',
      rendererType: 'csr',
      wsPort: PORT_BASE,
      endpoint: `ws://127.0.0.1:${PORT_BASE}`,
    });
    expect(spawn.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(typeof spawn.startupMs).toBe('number');
    expect(Date.parse(spawn.readyAt!)).toBeGreaterThanOrEqual(Date.parse(spawn.startedAt));

    // The OS agrees: a live process leading its own group, started with this id and port.
    const pid = spawn.pid!;
    expect(procStat(pid)).toMatchObject({ pgrp: pid });
    const argv = procArgv(pid);
    expect(argAfter(argv, '--id')).toBe(spawn.id);
    expect(argAfter(argv, '--sc-port')).toBe(String(PORT_BASE));
    expect(argAfter(argv, '--liveliness-endpoint')).toBe(`${app.url}/liveliness`);

    const viewer = await connectViewer(spawn.endpoint, { cleanup });
    const hello = await viewer.nextJson<{ type: string; id: string; rendererType: string }>();
    expect(hello).toMatchObject({ type: 'hello', id: spawn.id, rendererType: 'csr' });
    // The server echoes what the viewer sends: the socket really is the simulator's.
    await viewer.send('ping-from-viewer');
    expect((await viewer.next()).text).toBe('ping-from-viewer');
    await viewer.close();

    await waitForProcessGone(pid);
    const ended = await waitForSpawnState(app.url, spawn.id, 'exited');
    expect(ended).toMatchObject({
      exitCode: 0,
      signal: null,
      endReason: 'the server reported disconnect and exited (code 0); no viewer attached through the proxy',
    });
    expect(ended.endedAt).not.toBeNull();
    expect(isLeased(app.app.get(PortAllocator), PORT_BASE)).toBe(false);
    expect(await canBindPort(PORT_BASE)).toBe(true);
    expect(app.events.filter((e) => e.id === spawn.id).map((e) => e.state)).toEqual([
      'starting',
      'ready',
      'disconnected',
      'exited',
    ]);

    // The slot and the single port are reusable.
    const again = await postSpawn(app.url, {});
    expect(again.status).toBe(200);
    expect(again.body.wsPort).toBe(PORT_BASE);
    expect(again.body.id).not.toBe(spawn.id);
    const list = await request(app.url).get('/spawns').expect(200);
    expect(list.body.map((s: SpawnView) => s.id)).toEqual([again.body.id, spawn.id]); // live first
    // The ended one still answers.
    expect(await getSpawn(app.url, spawn.id)).toMatchObject({ state: 'exited', exitCode: 0 });
    expect(await request(app.url).delete(`/spawns/${again.body.id}`)).toMatchObject({ status: 202 });
    await waitForProcessGone(again.body.pid);
  });

  it('passes the session token and model to the server; the viewer must present the token', async () => {
    const app = await startTrackedApp(cleanup, ENV);
    const response = await postSpawn(app.url, { model: 'bnc', sessionToken: 'tok-123' });
    expect(response.status).toBe(200);
    const argv = procArgv(response.body.pid);
    expect(argAfter(argv, '--model-file')).toBe('bnc');
    expect(argAfter(argv, '--session-token')).toBe('tok-123');
    const viewer = await connectViewer(response.body.endpoint, { cleanup });
    await viewer.send(JSON.stringify({ sessionToken: 'tok-123' }));
    expect(await viewer.nextJson()).toMatchObject({
      type: 'hello',
      id: response.body.id,
      model: 'bnc',
      modelFound: true,
      sessionToken: true,
    });
    await viewer.close();
    await waitForProcessGone(response.body.pid);
    await waitForSpawnState(app.url, response.body.id, 'exited');
  });

  describe('validation', () => {
    const cases: Array<[string, object, RegExp]> = [
      ['an unknown field', { rendererType: 'csr', colour: 'red' }, /colour should not exist/],
      ['a bad rendererType', { rendererType: 'gpu' }, /rendererType must be "csr" or "ssr"/],
      ['a non-string rendererType', { rendererType: 1 }, /rendererType/],
      ['a path-traversal model', { model: '../etc/passwd' }, /^model must be a plain relative model name/],
      ['an absolute model path', { model: '/etc/passwd' }, /^model must be a plain relative model name/],
      ['a model that looks like an option', { model: '--license-file' }, /^model must be a plain relative model name/],
      ['a parent reference behind a colon', { model: 'scsim:../../x' }, /^model must be/],
      ['a too long model', { model: 'a'.repeat(201) }, /^model must be/],
      ['a token with a space', { sessionToken: 'a b' }, /^sessionToken must be 1 to 256 printable ASCII/],
      ['an empty token', { sessionToken: '' }, /^sessionToken must be/],
      ['a too long token', { sessionToken: 'x'.repeat(257) }, /^sessionToken must be/],
      ['a non-string token', { sessionToken: 42 }, /^sessionToken must be a string/],
    ];

    it.each(cases)('rejects %s with 400 naming the field, and starts nothing', async (_what, body, message) => {
      const app = await startTrackedApp(cleanup, ENV);
      const response = await postSpawn(app.url, body);
      expect(response.status).toBe(400);
      expect(response.body.statusCode).toBe(400);
      const messages: string[] = Array.isArray(response.body.message) ? response.body.message : [response.body.message];
      expect(messages.some((m) => message.test(m))).toBe(true);
      expect(app.knownPids()).toEqual([]);
      expect((await request(app.url).get('/spawns')).body).toEqual([]);
    });

    it('passes a name with a colon to the server as it is: the simulator itself refuses an unknown fault (502, exit 2)', async () => {
      const app = await startTrackedApp(cleanup, ENV);
      const response = await postSpawn(app.url, { model: 'scsim:no-such-fault' });
      expect(response.status).toBe(502);
      expect(response.body.message).toMatch(/exit code 2 \(invalid command line argument\)/);
      // The server's own words are not in the answer (issue 19: an anonymous caller learns the exit reason only);
      // they are in the spawn's logs, which the message points to.
      expect(response.body.message).not.toContain('no-such-fault');
      const logsPath = /GET (\/spawns\/[^/]+\/logs)/.exec(response.body.message)![1];
      const logs = (await request(app.url).get(logsPath).expect(200)).body as { line: string }[];
      expect(logs.map((l) => l.line).join('\n')).toContain('no-such-fault');
    });

    it('rejects malformed JSON with 400 (a JSON error, no stack trace) and starts nothing', async () => {
      const app = await startTrackedApp(cleanup, ENV);
      const response = await rawRequest(app.url, 'POST', '/spawn', '{"rendererType": "csr",');
      expect(response.status).toBe(400);
      expect(response.headers['content-type']).toMatch(/application\/json/);
      expect(response.json()).toMatchObject({ statusCode: 400 });
      expect(response.body).not.toMatch(/at .*\.js:\d+/); // no stack frames
      expect(app.knownPids()).toEqual([]);
    });
  });

  describe('liveliness endpoint', () => {
    it('answers 404 for an unknown id', async () => {
      const app = await startTrackedApp(cleanup, ENV);
      await request(app.url).post('/liveliness/no-such-spawn?liveliness=ping').expect(404);
      await request(app.url).post('/liveliness/no-such-spawn').expect(400); // the value is checked first
    });

    it('answers 400 for a missing or invalid value; a live spawn hears only its own server (403 from anyone else, no state change)', async () => {
      // never-ready: the server itself never reports, so whatever changes could only come from this test.
      const app = await startTrackedApp(cleanup, { ...ENV, SPAWN_READY_TIMEOUT_S: '30' });
      const pending = postSpawn(app.url, { model: 'scsim:never-ready' }).then((r) => r);
      const record = await waitForListedSpawn(app.url);
      expect(record.state).toBe('starting');

      const queries = [
        '',
        '?liveliness=',
        '?liveliness=READY',
        '?liveliness=alive',
        '?liveliness=ready&liveliness=ping',
      ];
      for (const query of [...queries, '?other=ready']) {
        // The value is checked for any id the service does not supervise right now.
        const response = await request(app.url).post(`/liveliness/ended-or-unknown${query}`);
        expect({ query, status: response.status }).toEqual({ query, status: 400 });
        expect(response.body.message).toMatch(/liveliness must be one of ready, ping, disconnect/);
      }
      // This test process is a local user that read the id in `ps`: nothing it reports is believed.
      for (const query of [...queries, '?liveliness=ping', '?liveliness=ready', '?liveliness=disconnect']) {
        const response = await request(app.url).post(`/liveliness/${record.id}${query}`);
        expect({ query, status: response.status }).toEqual({ query, status: 403 });
        expect(response.body.message).toMatch(/accepted only from that server's own processes/);
      }
      const unchanged = await getSpawn(app.url, record.id);
      expect(unchanged).toMatchObject({ state: 'starting', lastReportAt: null, readyAt: null });

      await request(app.url).delete(`/spawns/${record.id}`).expect(202);
      expect((await pending).status).not.toBe(200);
      await waitForProcessGone(record.pid!);
      // The process is gone before its exit is handled (its last output is read first): wait for the record.
      await waitFor(async () => (await getSpawn(app.url, record.id)).state === 'exited', 5000, {
        description: 'the spawn to be recorded as exited',
      });
      // A report from a spawn that has ended is accepted and changes nothing.
      await request(app.url).post(`/liveliness/${record.id}?liveliness=ping`).expect(204);
      expect((await getSpawn(app.url, record.id)).state).toBe('exited');
    });
  });

  describe('renderer types', () => {
    it('answers 403 when SSR is disabled, and starts nothing', async () => {
      const app = await startTrackedApp(cleanup, { ...ENV, SSR_ENABLED: 'false' });
      const response = await postSpawn(app.url, { rendererType: 'ssr' });
      expect(response.status).toBe(403);
      expect(response.body.message).toMatch(/SSR rendering is disabled.*SSR_ENABLED=false/);
      expect(app.knownPids()).toEqual([]);
      // CSR still works.
      const csr = await postSpawn(app.url, { rendererType: 'csr' });
      expect(csr.status).toBe(200);
      await request(app.url).delete(`/spawns/${csr.body.id}`).expect(202);
      await waitForProcessGone(csr.body.pid);
    });

    it('answers 403 when CSR is disabled (also for the default renderer)', async () => {
      const app = await startTrackedApp(cleanup, { ...ENV, CSR_ENABLED: 'false' });
      expect((await postSpawn(app.url, {})).status).toBe(403);
      expect((await postSpawn(app.url, { rendererType: 'csr' })).status).toBe(403);
      expect(app.knownPids()).toEqual([]);
    });

    it('starts an SSR spawn as SSR: --ssr true, a DISPLAY, and the server says ssr in its hello', async () => {
      const app = await startTrackedApp(cleanup, { ...ENV, DISPLAY: ':7' });
      const response = await postSpawn(app.url, { rendererType: 'ssr' });
      expect(response.status).toBe(200);
      expect(response.body.rendererType).toBe('ssr');
      const pid = response.body.pid as number;
      const argv = procArgv(pid);
      expect(argAfter(argv, '--ssr')).toBe('true');
      expect(argv).not.toContain('--csr');
      const env = procEnv(pid);
      expect(env.DISPLAY).toBe(':7');
      expect(env.LD_LIBRARY_PATH?.split(':')[0]).toMatch(/apps\/sc-server-sim\/bin$/);

      const viewer = await connectViewer(response.body.endpoint, { cleanup });
      expect(await viewer.nextJson()).toMatchObject({ type: 'hello', id: response.body.id, rendererType: 'ssr' });
      await viewer.close();
      await waitForProcessGone(pid);
    });
    it("SSR through EGL: --ssr-egl true and no DISPLAY in the server's environment", async () => {
      const app = await startTrackedApp(cleanup, { ...ENV, SC_SSR_EGL: 'true' });
      const previous = process.env.DISPLAY;
      const response = await postSpawn(app.url, { rendererType: 'ssr' });
      expect(response.status).toBe(200);
      const pid = response.body.pid as number;
      expect(argAfter(procArgv(pid), '--ssr-egl')).toBe('true');
      expect(procEnv(pid).DISPLAY).toBeUndefined();
      expect(process.env.DISPLAY).toBe(previous); // the service's own environment is untouched
      await request(app.url).delete(`/spawns/${response.body.id}`).expect(202);
      await waitForProcessGone(pid);
    });
  });

  describe('health', () => {
    it('reports activeSpawns, maxSpawns, freePorts and a count per state', async () => {
      const app = await startTrackedApp(cleanup, { ...ENV, SC_MAX_SPAWNS: '3', SC_PORT_COUNT: '5' });
      const idle = await request(app.url).get('/health').expect(200);
      expect(idle.body.status).toBe('ok');
      expect(idle.body.details.spawner).toMatchObject({ status: 'up', activeSpawns: 0, maxSpawns: 3, freePorts: 5 });
      expect(idle.body.details.spawner.states).toMatchObject({ starting: 0, ready: 0, exited: 0, failed: 0 });
      await request(app.url).get('/health/ready').expect(200);

      const spawn = (await postSpawn(app.url, {}).expect(200)).body as SpawnView;
      const busy = await request(app.url).get('/health').expect(200);
      expect(busy.body.details.spawner).toMatchObject({ activeSpawns: 1, maxSpawns: 3, freePorts: 4 });
      expect(busy.body.details.spawner.states).toMatchObject({ ready: 1 });

      await request(app.url).delete(`/spawns/${spawn.id}`).expect(202);
      await waitForProcessGone(spawn.pid!);
      await waitForSpawnState(app.url, spawn.id, 'exited');
      const after = await request(app.url).get('/health').expect(200);
      expect(after.body.details.spawner).toMatchObject({ activeSpawns: 0, freePorts: 5 });
      expect(after.body.details.spawner.states).toMatchObject({ ready: 0, exited: 1 });
    });

    it('is not ready when SC_EXECUTABLE goes missing after start-up, and POST /spawn then fails clearly with nothing left behind', async () => {
      const dir = makeTempDir(cleanup);
      const license = join(dir, 'license.txt');
      writeFileSync(license, 'dummy\n');
      // Start-up refuses a missing executable (see startup.e2e-spec.ts), so it goes away once the service runs.
      const missing = join(dir, 'no-such-ts3d_sc_server');
      writeFileSync(missing, '#!/bin/sh\nexit 0\n');
      chmodSync(missing, 0o755);
      const app = await startTrackedApp(cleanup, {
        ...ENV,
        SC_EXECUTABLE: missing,
        SC_LICENSE_FILE: license,
        SC_PORT_COUNT: '2',
      });
      await request(app.url).get('/health/ready').expect(200);
      unlinkSync(missing);

      await request(app.url).get('/health').expect(200);
      const ready = await request(app.url).get('/health/ready');
      expect(ready.status).toBe(503);
      expect(JSON.stringify(ready.body)).toContain('executable is missing or not executable');

      const response = await postSpawn(app.url, {});
      expect(response.status).toBe(502);
      expect(response.body.message).toMatch(/could not be started: .*ENOENT/);
      const health = await request(app.url).get('/health').expect(200);
      expect(health.body.details.spawner).toMatchObject({ activeSpawns: 0, freePorts: 2 });
      expect(health.body.details.spawner.states).toMatchObject({ failed: 1 });

      // Present but not executable: same story (EACCES).
      writeFileSync(missing, '#!/bin/sh\nexit 0\n');
      chmodSync(missing, 0o644);
      expect((await request(app.url).get('/health/ready')).status).toBe(503);
      const denied = await postSpawn(app.url, {});
      expect(denied.status).toBe(502);
      expect(denied.body.message).toMatch(/could not be started: .*EACCES/);
      expect(app.app.get(PortAllocator).counts()).toMatchObject({ leased: 0 });
    });
  });

  it('documents every route in /docs-json, and serves the Swagger UI at /docs', async () => {
    const app = await startTrackedApp(cleanup, ENV);
    const doc = (await request(app.url).get('/docs-json').expect(200)).body as {
      paths: Record<string, Record<string, unknown>>;
    };
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`),
    );
    const expected = [
      'POST /spawn',
      'GET /spawns',
      'GET /spawns/{id}',
      'DELETE /spawns/{id}',
      'POST /liveliness/{id}',
      'GET /health',
      'GET /health/ready',
    ];
    expect(documented).toEqual(expect.arrayContaining(expected));

    // And every route the HTTP server actually serves is in the document.
    // Swagger's own pages aside; the dashboard's page and assets are documented too.
    const served = registeredRoutes(app.app)
      .map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, '{$1}')}`)
      .filter((r) => !r.includes('/docs'));
    expect(served.length).toBeGreaterThanOrEqual(expected.length);
    for (const route of served) expect(documented).toContain(route);

    expect(doc.paths['/spawn'].post).toMatchObject({
      responses: expect.objectContaining({
        200: expect.anything(),
        400: expect.anything(),
        503: expect.anything(),
        504: expect.anything(),
      }),
    });
    const ui = await request(app.url).get('/docs').redirects(1);
    expect(ui.status).toBe(200);
    expect(ui.text).toMatch(/swagger/i);
  });
});

/** Waits until GET /spawns shows exactly one spawn with a pid, and returns it. */
async function waitForListedSpawn(url: string): Promise<SpawnView> {
  return waitFor(
    async () => {
      const list = (await request(url).get('/spawns')).body as SpawnView[];
      return list.length === 1 && list[0].pid !== undefined ? list[0] : undefined;
    },
    5000,
    { description: 'the spawn to be listed' },
  );
}

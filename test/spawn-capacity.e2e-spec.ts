/**
 * End to end: capacity limits, DELETE, client abort, many concurrent spawns and ports held by other
 * programs, with real simulator processes checked through the OS.
 */
import { isLeased } from './fakes';
import { spawn } from 'child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'fs';
import { join } from 'path';
import request from 'supertest';
import { SIMULATOR_DUMMY_LICENSE } from '../src/config/app-config';
import { PortAllocator } from '../src/ports/port-allocator.service';
import { isProcessAlive, useCleanup } from './support/processes';
import { FAST_TIMINGS } from './support/spawner-app';
import {
  argAfter,
  canBindPort,
  holdPort,
  isGone,
  postSpawn,
  postSpawnAndAbort,
  procArgv,
  startTrackedApp,
  waitForProcessGone,
  waitForSpawnState,
  type SpawnView,
} from './support/spawner-e2e';
import { SIM_EXECUTABLE } from './support/simulator';
import { makeTempDir } from './support/temp';
import { connectViewer } from './support/viewer-client';
import { parsePrometheus, sampleValue } from './support/operable';
import { waitFor } from './support/wait';
import { RETRY_AFTER_AT_CAPACITY_S } from '../src/http/http-error';

const PORT_BASE = 21200;
const ENV = { ...FAST_TIMINGS, SC_PORT_BASE: String(PORT_BASE) };

describe('capacity, DELETE and concurrency (e2e)', () => {
  const cleanup = useCleanup();

  it('answers 503 with Retry-After at once when all slots are taken; readiness is 503; a slot freed by DELETE is reusable', async () => {
    const app = await startTrackedApp(cleanup, { ...ENV, SC_MAX_SPAWNS: '2' });
    const [a, b] = await Promise.all([postSpawn(app.url, {}), postSpawn(app.url, {})]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(a.body.wsPort).not.toBe(b.body.wsPort);

    const started = Date.now();
    const third = await postSpawn(app.url, {});
    const elapsed = Date.now() - started;
    expect(third.status).toBe(503);
    expect(elapsed).toBeLessThan(1000);
    expect(Number(third.headers['retry-after'])).toBe(RETRY_AFTER_AT_CAPACITY_S);
    expect(third.body.message).toMatch(/all 2 spawn slots are in use/);
    expect(app.knownPids()).toHaveLength(2); // nothing was started for it

    const ready = await request(app.url).get('/health/ready');
    expect(ready.status).toBe(503);
    expect(JSON.stringify(ready.body)).toMatch(/at capacity/);
    await request(app.url).get('/health').expect(200);

    // DELETE: 202, idempotent while stopping and after exit; 404 for an unknown id.
    const deleted = await request(app.url).delete(`/spawns/${a.body.id}`);
    expect(deleted.status).toBe(202);
    expect(['terminating', 'exited']).toContain(deleted.body.state);
    const again = await request(app.url).delete(`/spawns/${a.body.id}`);
    expect(again.status).toBe(202);
    expect(again.body.id).toBe(a.body.id);
    await waitForProcessGone(a.body.pid);
    const ended = await waitForSpawnState(app.url, a.body.id, 'exited');
    expect(ended.endReason).toMatch(/DELETE/);
    expect(ended.exitCode).toBe(0); // the simulator shut down cleanly on SIGTERM
    await request(app.url).delete(`/spawns/${a.body.id}`).expect(202);
    await request(app.url).delete('/spawns/00000000-0000-4000-8000-000000000000').expect(404);
    expect(isGone(b.body.pid)).toBe(false); // the other one is untouched

    await request(app.url).get('/health/ready').expect(200);
    const fresh = await postSpawn(app.url, {});
    expect(fresh.status).toBe(200);
    expect(fresh.body.id).not.toBe(a.body.id);
    expect((await postSpawn(app.url, {})).status).toBe(503);

    for (const spawn of [b.body, fresh.body]) await request(app.url).delete(`/spawns/${spawn.id}`).expect(202);
    await Promise.all([waitForProcessGone(b.body.pid), waitForProcessGone(fresh.body.pid)]);
  });

  it("sheds load at the door while full: any POST /spawn gets the route's own 503, counted, with its headers", async () => {
    const KEY = 'door-key-0123456789abcdef';
    const bearer = { authorization: `Bearer ${KEY}` };
    const app = await startTrackedApp(cleanup, {
      ...ENV,
      SC_PORT_BASE: String(PORT_BASE + 40),
      SC_MAX_SPAWNS: '1',
      API_KEYS: KEY,
      SPAWN_AUTH: 'required',
      CORS_ORIGINS: 'https://viewer.example',
    });
    const held = await request(app.url).post('/spawn').set(bearer).send({});
    expect(held.status).toBe(200);
    const rejections = async () => {
      const samples = parsePrometheus((await request(app.url).get('/metrics').set(bearer)).text);
      return sampleValue(samples, 'sc_spawner_spawn_rejections_total', { reason: 'capacity' })!;
    };
    const before = await rejections();
    // Full: a valid request, one with a bad body and one from a page all get the same refusal.
    const refusals = [
      await request(app.url).post('/spawn').set(bearer).send({}),
      await request(app.url).post('/spawn').set(bearer).send({ rendererType: 'gpu' }),
      await request(app.url)
        .post('/spawn')
        .set({ ...bearer, origin: 'https://viewer.example' })
        .send({}),
    ];
    for (const refusal of refusals) {
      expect(refusal.status).toBe(503);
      expect(refusal.body).toEqual({
        statusCode: 503,
        error: 'Service Unavailable',
        message: 'all 1 spawn slots are in use',
      });
      expect(Number(refusal.headers['retry-after'])).toBe(RETRY_AFTER_AT_CAPACITY_S);
      expect(refusal.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    }
    expect(refusals[2].headers['access-control-allow-origin']).toBe('https://viewer.example');
    expect((await rejections()) - before).toBe(3);
    // The door is behind the key: a caller without one is told 401, full or not, and is not counted as refused.
    expect((await request(app.url).post('/spawn').send({})).status).toBe(401);
    expect((await rejections()) - before).toBe(3);
    expect(app.knownPids()).toHaveLength(1); // nothing was started for them

    // A slot free again: the bad body and the caller without a key are told their own reason.
    expect((await request(app.url).post('/spawn').send({})).status).toBe(401);
    await request(app.url).delete(`/spawns/${held.body.id}`).set(bearer).expect(202);
    await waitForProcessGone(held.body.pid);
    await waitFor(() => app.supervisor.get(held.body.id)?.state === 'exited', 5000, { description: 'its exit' });
    expect((await request(app.url).post('/spawn').set(bearer).send({ rendererType: 'gpu' })).status).toBe(400);
  });

  it('lets a request through at full slots when an unclaimed warm server can serve it', async () => {
    const app = await startTrackedApp(cleanup, {
      ...ENV,
      SC_PORT_BASE: String(PORT_BASE + 50),
      SC_MAX_SPAWNS: '1',
      SC_WARM_POOL_CSR: '1',
    });
    await waitFor(() => app.supervisor.capacity().warm.csr === 1, 10_000, { description: 'the warm server' });
    const claimed = await postSpawn(app.url, {});
    expect(claimed.status).toBe(200);
    expect(claimed.body.warm).toBe(true);
    expect((await postSpawn(app.url, {})).status).toBe(503); // the warm server is claimed: nothing left
    await request(app.url).delete(`/spawns/${claimed.body.id}`).expect(202);
    await waitForProcessGone(claimed.body.pid);
  });

  it('never exceeds SC_MAX_SPAWNS under concurrent requests: 8 at once with 5 slots -> 5 ready, 3 refused, 5 processes', async () => {
    const app = await startTrackedApp(cleanup, { ...ENV, SC_MAX_SPAWNS: '5', SPAWN_READY_TIMEOUT_S: '15' });
    const responses = await Promise.all(Array.from({ length: 8 }, () => postSpawn(app.url, {})));
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 200, 200, 200, 200, 503, 503, 503]);
    for (const refused of responses.filter((r) => r.status === 503))
      expect(Number(refused.headers['retry-after'])).toBe(RETRY_AFTER_AT_CAPACITY_S);
    const pids = app.knownPids();
    expect(pids).toHaveLength(5);
    expect(pids.filter((pid) => !isGone(pid))).toHaveLength(5);
    const ok = responses.filter((r) => r.status === 200).map((r) => r.body as SpawnView);
    await Promise.all(ok.map((s) => request(app.url).delete(`/spawns/${s.id}`).expect(202)));
    await Promise.all(ok.map((s) => waitForProcessGone(s.pid!)));
  });

  it('answers 503 with Retry-After when no port is free, even with slots left', async () => {
    const app = await startTrackedApp(cleanup, { ...ENV, SC_MAX_SPAWNS: '3', SC_PORT_COUNT: '1' });
    const first = await postSpawn(app.url, {});
    expect(first.status).toBe(200);
    const started = Date.now();
    const second = await postSpawn(app.url, {});
    expect(Date.now() - started).toBeLessThan(1000);
    expect(second.status).toBe(503);
    expect(Number(second.headers['retry-after'])).toBe(RETRY_AFTER_AT_CAPACITY_S);
    expect(second.body.message).toMatch(/no free WebSocket port/);
    expect((await request(app.url).get('/health/ready')).status).toBe(503);
    await request(app.url).delete(`/spawns/${first.body.id}`).expect(202);
    await waitForProcessGone(first.body.pid);
  });

  it('stops the spawn when the client disconnects before it is ready: process gone, port freed', async () => {
    const app = await startTrackedApp(cleanup, ENV);
    const outcome = await postSpawnAndAbort(app.url, { model: 'scsim:slow-ready:1500' }, 200);
    expect(outcome).toBe('aborted');
    // The spawn existed (the OS saw its process) and is now stopped.
    const listed = await waitFor(() => app.supervisor.list()[0], 2000, {
      description: 'the aborted spawn to be known',
    });
    const pid = listed.pid!;
    const port = listed.spec.wsPort;
    await waitForProcessGone(pid, 3000);
    const view = await waitForSpawnState(app.url, listed.id, 'exited');
    expect(view.readyAt).toBeNull();
    expect(view.endReason).toMatch(/client went away/);
    expect(isLeased(app.app.get(PortAllocator), port)).toBe(false);
    expect(await canBindPort(port)).toBe(true);
    expect(app.events.filter((e) => e.id === listed.id).map((e) => e.state)).toEqual([
      'starting',
      'terminating',
      'exited',
    ]);
  });

  it('gives 20 concurrent spawns 20 distinct ports, all ready, all cleaned up', async () => {
    const COUNT = 20;
    // Twenty node processes starting at once on a small machine: allow them time to become ready.
    const app = await startTrackedApp(cleanup, {
      ...ENV,
      SC_MAX_SPAWNS: String(COUNT),
      SPAWN_READY_TIMEOUT_S: '25',
      SC_LIVELINESS_INTERVAL_S: '1',
      PING_TIMEOUT_S: '10',
    });
    const responses = await Promise.all(Array.from({ length: COUNT }, () => postSpawn(app.url, {})));
    expect(responses.map((r) => r.status)).toEqual(Array(COUNT).fill(200));
    const spawns = responses.map((r) => r.body as SpawnView);
    expect(new Set(spawns.map((s) => s.wsPort)).size).toBe(COUNT);
    expect(new Set(spawns.map((s) => s.id)).size).toBe(COUNT);
    expect(new Set(spawns.map((s) => s.pid)).size).toBe(COUNT);
    for (const spawn of spawns) {
      expect(spawn.state).toBe('ready');
      expect(spawn.wsPort).toBeGreaterThanOrEqual(PORT_BASE);
      expect(spawn.wsPort).toBeLessThan(PORT_BASE + 2 * COUNT);
      // Each process was really started with the port the client was told.
      expect(argAfter(procArgv(spawn.pid!), '--sc-port')).toBe(String(spawn.wsPort));
    }
    // Each endpoint reaches the server of that spawn and no other.
    const viewers = await Promise.all(spawns.map((s) => connectViewer(s.endpoint, { cleanup })));
    const hellos = await Promise.all(viewers.map((v) => v.nextJson<{ id: string }>()));
    expect(hellos.map((h) => h.id)).toEqual(spawns.map((s) => s.id));

    const health = await request(app.url).get('/health').expect(200);
    expect(health.body.details.spawner).toMatchObject({ activeSpawns: COUNT, freePorts: COUNT });
    expect((await request(app.url).get('/health/ready')).status).toBe(503);

    // Half end by their viewer leaving, half by DELETE.
    await Promise.all(viewers.slice(0, COUNT / 2).map((v) => v.close()));
    await Promise.all(spawns.slice(COUNT / 2).map((s) => request(app.url).delete(`/spawns/${s.id}`).expect(202)));
    await Promise.all(spawns.map((s) => waitForProcessGone(s.pid!, 10_000)));
    await Promise.all(spawns.map((s) => waitForSpawnState(app.url, s.id, 'exited')));
    const after = await request(app.url).get('/health').expect(200);
    expect(after.body.details.spawner).toMatchObject({ activeSpawns: 0, freePorts: 2 * COUNT });
    expect(app.app.get(PortAllocator).counts().leased).toBe(0);
  }, 60_000);

  it('skips a port another program holds and starts the spawn on a different one', async () => {
    await holdPort(PORT_BASE, cleanup); // all interfaces, as the simulator binds
    const app = await startTrackedApp(cleanup, ENV);
    const response = await postSpawn(app.url, {});
    expect(response.status).toBe(200);
    expect(response.body.wsPort).not.toBe(PORT_BASE);
    const viewer = await connectViewer(response.body.endpoint, { cleanup });
    expect(await viewer.nextJson()).toMatchObject({ type: 'hello', id: response.body.id });
    // Exactly one process was started: the busy port was skipped before launching, not retried after a failure.
    expect(app.knownPids()).toEqual([response.body.pid]);
    expect((await request(app.url).get('/health').expect(200)).body.details.spawner.freePorts).toBe(2 * 32 - 2); // one leased, one busy
    await viewer.close();
    await waitForProcessGone(response.body.pid);
    // The process is gone before the service has read its last output and recorded the exit.
    expect((await waitForSpawnState(app.url, response.body.id, 'exited')).exitCode).toBe(0);
  });
  it('retries once on another port, invisibly to the client, when another program takes the port between probe and bind', async () => {
    // A stand-in executable: the first time, it waits while another program (started by this test, not by the
    // server: what a server starts dies with it) grabs the port it was given, and exits 3 as a server that cannot
    // bind would; afterwards it runs the simulator.
    const dir = makeTempDir(cleanup);
    const wrapper = join(dir, 'ts3d_sc_server');
    writeFileSync(
      wrapper,
      `#!${process.execPath}
'use strict';
const fs = require('fs');
const args = process.argv.slice(2);
const port = Number(args[args.indexOf('--sc-port') + 1]);
const marker = ${JSON.stringify(join(dir, 'raced'))};
const held = ${JSON.stringify(join(dir, 'held'))};
if (fs.existsSync(marker)) {
  require(${JSON.stringify(SIM_EXECUTABLE)});
} else {
  fs.writeFileSync(marker, String(port));
  const timer = setInterval(() => {
    if (!fs.existsSync(held)) return;
    clearInterval(timer);
    process.stderr.write('cannot listen on port ' + port + ': EADDRINUSE\\n');
    process.exit(3);
  }, 10);
}
`,
    );
    chmodSync(wrapper, 0o755);
    const app = await startTrackedApp(cleanup, {
      ...ENV,
      SC_EXECUTABLE: wrapper,
      SC_LICENSE_FILE: SIMULATOR_DUMMY_LICENSE,
    });
    // Sent now (supertest sends on then()), answered once the second launch is ready.
    const answer = Promise.resolve(postSpawn(app.url, {}));
    const port = await waitFor(
      () => (existsSync(join(dir, 'raced')) ? Number(readFileSync(join(dir, 'raced'), 'utf8')) : undefined),
      10_000,
      { description: 'the first launch', intervalMs: 10 },
    );
    const holder = spawn(
      process.execPath,
      ['-e', `require("net").createServer().listen(${port}, () => console.log("held"))`],
      {
        stdio: ['ignore', 'pipe', 'ignore'],
      },
    );
    const holderPid = holder.pid!;
    cleanup.trackPid(holderPid);
    await new Promise((resolve) => holder.stdout.once('data', resolve));
    writeFileSync(join(dir, 'held'), '');
    const response = await answer;
    expect(response.status).toBe(200);
    const racedPort = Number(readFileSync(join(dir, 'raced'), 'utf8'));
    expect(response.body.wsPort).not.toBe(racedPort);
    expect(isProcessAlive(holderPid)).toBe(true); // the other program is left alone

    // Two launches: the first failed with exit 3, the client only saw the second.
    const records = app.supervisor.list();
    expect(records).toHaveLength(2);
    const failed = records.find((r) => r.state === 'failed')!;
    expect(failed).toMatchObject({ exitCode: 3 });
    expect(failed.spec.wsPort).toBe(racedPort);
    expect(app.app.get(PortAllocator).counts()).toMatchObject({ busy: 1, leased: 1 });

    const viewer = await connectViewer(response.body.endpoint, { cleanup });
    expect(await viewer.nextJson()).toMatchObject({ type: 'hello', id: response.body.id });
    await viewer.close();
    await waitForProcessGone(response.body.pid);
    await waitForProcessGone(failed.pid!);
  });
});

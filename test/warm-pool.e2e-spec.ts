/**
 * End to end: the warm pool with real simulator processes, checked through HTTP, WebSockets and the OS.
 * Claims answer with a working server under the server's own --id, the pool refills, requests with options
 * go cold, cold requests at capacity retire warm servers (never a 503 while one exists), dead, frozen and aged
 * warm servers are replaced, a failing executable backs off, and SIGTERM stops warm servers first.
 */
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { join } from 'path';
import request from 'supertest';
import { freePort } from './support/ports';
import { isProcessAlive, signalProcess, useCleanup } from './support/processes';
import { FAST_TIMINGS, startServiceProcess } from './support/spawner-app';
import {
  argAfter,
  getSpawn,
  isGone,
  postSpawn,
  procArgv,
  startTrackedApp,
  waitForProcessGone,
  waitForSpawnState,
  type SpawnView,
} from './support/spawner-e2e';
import { makeTempDir } from './support/temp';
import { connectViewer } from './support/viewer-client';
import { sleep, waitFor } from './support/wait';

/** This file's WebSocket ports: 26000-26499, a slice per test so no test meets another's lingering sockets. */
const PORT_BASE = 26000;
const envFor = (slice: number, env: Record<string, string>) => ({
  ...FAST_TIMINGS,
  SC_PORT_BASE: String(PORT_BASE + slice * 50),
  SC_PORT_COUNT: '40',
  ...env,
});

interface WarmStatus {
  csr: number;
  ssr: number;
  failing: string | null;
  retryAt: string | null;
}

async function warmStatus(url: string): Promise<WarmStatus> {
  return (await request(url).get('/api/status').expect(200)).body.warm as WarmStatus;
}

/** Unclaimed warm servers in GET /spawns, in the given states (ready by default). */
async function unclaimed(url: string, states = ['ready']): Promise<SpawnView[]> {
  const list = (await request(url).get('/spawns').expect(200)).body as SpawnView[];
  return list.filter((s) => s.pool === 'warm' && states.includes(s.state));
}

function waitForWarmReady(url: string, count: number, timeoutMs = 8000): Promise<SpawnView[]> {
  let last: SpawnView[] = [];
  return waitFor(
    async () => {
      last = await unclaimed(url);
      return last.length >= count ? last : undefined;
    },
    timeoutMs,
    { intervalMs: 20, description: () => `${count} ready warm servers (have ${last.length})` },
  );
}

describe('warm pool (e2e)', () => {
  const cleanup = useCleanup();

  it('a claim answers at once with a working server under its own --id; the pool refills; GET /spawns marks the rest', async () => {
    const app = await startTrackedApp(cleanup, envFor(0, { SC_MAX_SPAWNS: '4', SC_WARM_POOL_CSR: '2' }));
    const warm = await waitForWarmReady(app.url, 2);
    expect(await warmStatus(app.url)).toMatchObject({ csr: 2, ssr: 0, failing: null, retryAt: null });
    for (const server of warm) {
      expect(server).toMatchObject({ warm: true, pool: 'warm', claimedAt: null, model: null });
      const argv = procArgv(server.pid!);
      expect(argAfter(argv, '--id')).toBe(server.id);
      expect(argAfter(argv, '--session-token')).toBeUndefined();
      expect(argAfter(argv, '--model-file')).toBeUndefined();
      expect(argAfter(argv, '--initial-use-duration')).toBe('630'); // 600 s in the pool + the claimant's 30 s
    }

    // Through the proxy an unclaimed warm server is nobody's session yet: it has no relay token, and its id opens nothing.
    expect(warm[0].proxyEndpoint).toBe(`ws://127.0.0.1:${app.port}/ws/unclaimed`);
    const early = await connectViewer(`ws://127.0.0.1:${app.port}/ws/${warm[0].id}`, { cleanup }).catch(
      (error: unknown) => error,
    );
    expect(early).toMatchObject({ status: 404 });

    const response = await postSpawn(app.url, {});
    expect(response.status).toBe(200);
    const claimed = response.body as SpawnView;
    expect(warm.map((w) => w.id)).toContain(claimed.id);
    expect(claimed).toMatchObject({ state: 'ready', warm: true, pool: 'claimed' });
    expect(claimed.claimedAt).not.toBeNull();
    expect(argAfter(procArgv(claimed.pid!), '--id')).toBe(claimed.id);

    const viewer = await connectViewer(claimed.proxyEndpoint, { cleanup });
    expect(await viewer.nextJson()).toMatchObject({ type: 'hello', id: claimed.id, rendererType: 'csr' });
    await viewer.send('echo-through-a-warm-server');
    expect((await viewer.next()).text).toBe('echo-through-a-warm-server');

    // The replacement: two unclaimed again, one of them new.
    const refilled = await waitForWarmReady(app.url, 2);
    expect(refilled.map((w) => w.id)).not.toContain(claimed.id);
    expect(refilled.filter((w) => !warm.some((old) => old.id === w.id))).toHaveLength(1);

    // The HOOPS client's usual body claims too, and says so.
    const hoops = await request(app.url).post('/api/spawn').send({ class: 'csr_session', params: {} }).expect(200);
    expect(hoops.body).toMatchObject({ result: 'ok', warm: true });
    expect(refilled.map((w) => w.id)).toContain(hoops.body.serviceId);
    const second = await connectViewer(hoops.body.endpoints.ws as string, { cleanup });
    expect(await second.nextJson()).toMatchObject({ type: 'hello', id: hoops.body.serviceId });

    // Metrics: two claims, the pool full again once refilled, no miss (every request needed nothing).
    await waitForWarmReady(app.url, 2);
    const metrics = (await request(app.url).get('/metrics').expect(200)).text;
    expect(metrics).toMatch(/^sc_spawner_warm_claims_total\{renderer="csr"\} 2$/m);
    expect(metrics).toMatch(/^sc_spawner_warm_servers\{renderer="csr"\} 2$/m);
    expect(metrics).toMatch(/^sc_spawner_warm_servers\{renderer="ssr"\} 0$/m);
    expect(metrics).not.toMatch(/^sc_spawner_warm_misses_total\{/m);
    expect(metrics).toMatch(/^sc_spawner_draining 0$/m);

    // The session ends as any other: its liveliness reports keep arriving under the same id.
    await viewer.close();
    await waitForSpawnState(app.url, claimed.id, 'exited');
    await waitForProcessGone(claimed.pid!);
  });

  it('a request with a session token (or a model) goes cold, and its token is enforced', async () => {
    const app = await startTrackedApp(cleanup, envFor(1, { SC_MAX_SPAWNS: '4', SC_WARM_POOL_CSR: '2' }));
    const warm = await waitForWarmReady(app.url, 2);
    const response = await postSpawn(app.url, { sessionToken: 'warm-e2e-token' });
    expect(response.status).toBe(200);
    const cold = response.body as SpawnView;
    expect(cold).toMatchObject({ warm: false, pool: null, claimedAt: null });
    expect(warm.map((w) => w.id)).not.toContain(cold.id);
    expect(argAfter(procArgv(cold.pid!), '--session-token')).toBe('warm-e2e-token');

    const intruder = await connectViewer(cold.endpoint, { cleanup });
    await intruder.send(JSON.stringify({ sessionToken: 'wrong-token' }));
    expect(await intruder.closed).toMatchObject({ code: 1008 });
    const viewer = await connectViewer(cold.endpoint, { cleanup });
    await viewer.send(JSON.stringify({ sessionToken: 'warm-e2e-token' }));
    expect(await viewer.nextJson()).toMatchObject({ type: 'hello', id: cold.id, sessionToken: true });

    const withModel = await postSpawn(app.url, { model: 'bnc' });
    expect(withModel.body).toMatchObject({ warm: false, model: 'bnc' });
    // The pool was not touched.
    expect((await unclaimed(app.url)).map((w) => w.id).sort()).toEqual(warm.map((w) => w.id).sort());
    // Both went cold because they needed options: two misses of that reason, no claim.
    const metrics = (await request(app.url).get('/metrics').expect(200)).text;
    expect(metrics).toMatch(/^sc_spawner_warm_misses_total\{renderer="csr",reason="needs_options"\} 2$/m);
    expect(metrics).not.toMatch(/^sc_spawner_warm_claims_total\{/m);
  });

  it('at capacity, cold requests retire warm servers instead of answering 503; never more live processes than SC_MAX_SPAWNS', async () => {
    const app = await startTrackedApp(cleanup, envFor(2, { SC_MAX_SPAWNS: '2', SC_WARM_POOL_CSR: '2' }));
    const warm = await waitForWarmReady(app.url, 2);
    await request(app.url).get('/health/ready').expect(200);

    let maxAlive = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        maxAlive = Math.max(maxAlive, app.knownPids().filter(isProcessAlive).length);
        await sleep(2);
      }
    })();
    const [a, b] = await Promise.all([
      postSpawn(app.url, { sessionToken: 'tok-a' }),
      postSpawn(app.url, { model: 'microengine' }),
    ]);
    sampling = false;
    await sampler;
    expect([a.status, b.status]).toEqual([200, 200]);
    expect([a.body.warm, b.body.warm]).toEqual([false, false]);
    expect(maxAlive).toBeLessThanOrEqual(2);
    for (const server of warm) {
      expect(isGone(server.pid!)).toBe(true);
      expect((await getSpawn(app.url, server.id)).endReason).toMatch(/retired from the warm pool/);
    }
    // Now every slot holds a session: readiness and a new request say so.
    const ready = await request(app.url).get('/health/ready');
    expect(ready.status).toBe(503);
    expect(JSON.stringify(ready.body)).toMatch(/at capacity/);
    expect((await postSpawn(app.url, {})).status).toBe(503);
    // A slot freed by a session goes back to the pool.
    await request(app.url).delete(`/spawns/${a.body.id}`).expect(202);
    await waitForWarmReady(app.url, 1);
  });

  it('a warm server killed with SIGKILL or frozen with SIGSTOP is replaced', async () => {
    const app = await startTrackedApp(cleanup, envFor(3, { SC_MAX_SPAWNS: '3', SC_WARM_POOL_CSR: '1' }));
    const [first] = await waitForWarmReady(app.url, 1);
    signalProcess(first.pid!, 'SIGKILL');
    const killed = await waitForSpawnState(app.url, first.id, 'exited');
    expect(killed.signal).toBe('SIGKILL');
    const second = await waitFor(async () => (await unclaimed(app.url)).find((w) => w.id !== first.id), 8000, {
      intervalMs: 20,
      description: 'a replacement for the killed warm server',
    });

    signalProcess(second.pid!, 'SIGSTOP');
    // Frozen: it stops reporting, is marked unresponsive, stopped (SIGKILL after the grace) and replaced.
    const frozen = await waitForSpawnState(app.url, second.id, 'exited', 8000);
    expect(frozen.endReason).toMatch(/no liveliness report/);
    await waitForProcessGone(second.pid!);
    const [third] = await waitForWarmReady(app.url, 1);
    expect([first.id, second.id]).not.toContain(third.id);
    const claim = await postSpawn(app.url, {});
    expect(claim.body).toMatchObject({ id: third.id, warm: true });
  });

  it('refilling backs off exponentially on an executable that keeps failing; readiness and /api/status say why', async () => {
    const dir = makeTempDir(cleanup);
    const launches = join(dir, 'launches');
    const script = join(dir, 'failing-server');
    writeFileSync(script, `#!/bin/sh\necho launch >> '${launches}'\necho 'license rejected' >&2\nexit 6\n`);
    chmodSync(script, 0o755);
    writeFileSync(launches, '');
    const app = await startTrackedApp(
      cleanup,
      envFor(4, { SC_MAX_SPAWNS: '4', SC_WARM_POOL_CSR: '2', SC_EXECUTABLE: script, SC_LICENSE: 'bad-key' }),
    );
    await sleep(4500);
    const count = readFileSync(launches, 'utf8').split('\n').filter(Boolean).length;
    // 2 at start (2 failures: 2 s pause), 1 probe at ~2 s (3rd failure: 4 s pause), the next not before ~6 s.
    expect(count).toBeGreaterThanOrEqual(3);
    expect(count).toBeLessThanOrEqual(4);
    const spawns = (await request(app.url).get('/spawns').expect(200)).body as SpawnView[];
    expect(spawns.filter((s) => s.warm && s.state === 'failed').length).toBeGreaterThanOrEqual(count - 1);
    expect(spawns.filter((s) => s.warm)).toHaveLength(count);

    const status = await warmStatus(app.url);
    expect(status.csr).toBe(0);
    expect(status.failing).toMatch(
      /warm csr servers keep failing to start \(\d in a row\): .*exit code 6 \(invalid license\)/,
    );
    // The server's output is in its logs, not in the status (issue 19).
    const failed = spawns.find((s) => s.warm && s.state === 'failed')!;
    const logs = (await request(app.url).get(`/spawns/${failed.id}/logs`).expect(200)).body as { line: string }[];
    expect(logs.map((l) => l.line).join('\n')).toMatch(/license rejected/);
    expect(Date.parse(status.retryAt!)).toBeGreaterThan(Date.now() - 1000);
    const ready = await request(app.url).get('/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.body.error.spawner.reason).toMatch(/warm csr servers keep failing to start/);
  });

  it('with API keys set, health tells a caller without a key why the node is down, not paths or exit texts', async () => {
    const dir = makeTempDir(cleanup);
    const script = join(dir, 'failing-server');
    writeFileSync(script, `#!/bin/sh\necho 'license rejected' >&2\nexit 6\n`);
    chmodSync(script, 0o755);
    const key = 'health-key-0123456789';
    const app = await startTrackedApp(
      cleanup,
      envFor(7, { SC_MAX_SPAWNS: '2', SC_WARM_POOL_CSR: '1', SC_EXECUTABLE: script, SC_LICENSE: 'x', API_KEYS: key }),
    );
    const withKey = { authorization: `Bearer ${key}` };
    const keyed = await waitFor(
      async () => {
        const res = await request(app.url).get('/health/ready').set(withKey);
        return res.status === 503 && /keep failing/.test(res.body.error.spawner.reason) ? res : undefined;
      },
      15_000,
      { intervalMs: 100 },
    );
    expect(keyed.body.error.spawner.reason).toMatch(/warm csr servers keep failing to start .*exit code 6/);
    const failedId = ((await request(app.url).get('/spawns').set(withKey).expect(200)).body as SpawnView[])[0].id;
    for (const path of ['/health/ready', '/health']) {
      for (const headers of [{}, { authorization: 'Bearer not-the-key' }]) {
        const text = (await request(app.url).get(path).set(headers)).text;
        expect(text).toMatch(/warm servers keep failing to start \(why: with an API key, or in the log\)/);
        for (const secret of ['exit code', 'license', failedId, dir]) expect(text).not.toContain(secret);
      }
    }

    rmSync(script);
    const missing = await waitFor(
      async () => {
        const res = await request(app.url).get('/health/ready').set(withKey);
        return /missing or not executable/.test(res.body.error?.spawner.reason) ? res : undefined;
      },
      5000,
      { intervalMs: 100 },
    );
    expect(missing.body.error.spawner.reason).toContain(script);
    const keyless = await request(app.url).get('/health/ready').expect(503);
    expect(keyless.body.error.spawner.reason).toMatch(
      /^the Stream Cache Server executable is missing or not executable/,
    );
    expect(keyless.text).not.toContain(dir);
  });

  it('unclaimed warm servers older than SC_WARM_MAX_AGE_S are retired and replaced', async () => {
    const app = await startTrackedApp(
      cleanup,
      // The age counts from the server's start: long enough for a replacement to be seen ready on a busy machine.
      envFor(5, { SC_MAX_SPAWNS: '3', SC_WARM_POOL_CSR: '1', SC_WARM_MAX_AGE_S: '3' }),
    );
    const [first] = await waitForWarmReady(app.url, 1);
    expect(argAfter(procArgv(first.pid!), '--initial-use-duration')).toBe('33');
    const retired = await waitForSpawnState(app.url, first.id, 'exited', 8000);
    expect(retired.endReason).toMatch(/unclaimed for 3 s \(SC_WARM_MAX_AGE_S\)/);
    expect(retired.exitCode).toBe(0);
    const [next] = await waitForWarmReady(app.url, 1);
    expect(next.id).not.toBe(first.id);
  });

  it('SIGTERM stops the unclaimed warm servers first, then the sessions; the service exits 0 with nothing left', async () => {
    const service = await startServiceProcess(await freePort(), {
      ...envFor(6, { SC_MAX_SPAWNS: '4', SC_WARM_POOL_CSR: '2', KILL_GRACE_S: '1' }),
    });
    cleanup.add(() => service.stop(2000), `service process ${service.child.pid}`);
    await waitForWarmReady(service.url, 2);
    const session = (await postSpawn(service.url, {})).body as SpawnView;
    expect(session.warm).toBe(true);
    const warm = await waitForWarmReady(service.url, 2);
    const pids = [session.pid!, ...warm.map((w) => w.pid!)];

    expect(await service.stop()).toEqual({ code: 0, signal: null });
    for (const pid of pids) expect(isGone(pid)).toBe(true);
    const log = service.output.join('');
    const stopAt = (id: string) => log.indexOf(`spawn ${id}: ready -> terminating`);
    for (const w of warm) {
      expect(stopAt(w.id)).toBeGreaterThan(-1);
      expect(stopAt(w.id)).toBeLessThan(stopAt(session.id));
    }
    // Nothing was started after the shutdown began.
    expect(log.slice(log.indexOf('ready -> terminating'))).not.toMatch(/starting on port/);
  });
});

/**
 * Three built service nodes (4 slots each) behind real HAProxy running deploy/haproxy/haproxy.cfg itself
 * (addresses and check intervals substituted for the test), all on 127.0.0.1: spawns spread by the agent
 * weight, a full cluster answers a node's 503 with Retry-After, sessions are reached through /n/<node>/,
 * a node lost or drained is routed around, and a draining node keeps its viewers until they leave.
 */
import { chmodSync, unlinkSync, writeFileSync } from 'fs';
import { join } from 'path';
import request from 'supertest';
import { relayUrlMatching } from './support/relay';
import { freePort, readUntilClosed } from './support/ports';
import { isProcessGroupAlive, signalProcess, useCleanup, type Cleanup } from './support/processes';
import { FAST_TIMINGS, startServiceProcess, type ServiceProcess } from './support/spawner-app';
import { startHaproxy, type BalancedNode, type RunningHaproxy } from './support/haproxy';
import { makeTempDir } from './support/temp';
import { connectViewer } from './support/viewer-client';
import { sleep, waitFor } from './support/wait';
import { RETRY_AFTER_AT_CAPACITY_S } from '../src/http/http-error';

const PORT_BASE = 27000;
const SLOTS = 4;
const NODE_NAMES = ['node-a', 'node-b', 'node-c'] as const;

interface HoopsOk {
  result: 'ok';
  serviceId: string;
  endpoints: { ws: string };
  node: string;
  links: { self: string; events: string; logs: string; ws: string };
}

interface Cluster {
  lb: RunningHaproxy;
  nodes: Map<string, ServiceProcess>;
  agentPorts: Map<string, number>;
}

/** What a node's agent check says right now (one line, then the node closes the connection). */
const agentSays = readUntilClosed;

/** Three nodes behind HAProxy; `env` adds settings per node. Resolves once the balancer reaches every node. */
async function startCluster(
  cleanup: Cleanup,
  env: Partial<Record<string, Record<string, string>>> = {},
): Promise<Cluster> {
  const placed: Array<BalancedNode & { index: number }> = [];
  for (const [index, name] of NODE_NAMES.entries())
    placed.push({ name, index, port: await freePort(), agentPort: await freePort() });
  const lb = await startHaproxy(placed, cleanup);
  const started = await Promise.all(
    placed.map(async (node) => {
      const service = await startServiceProcess(node.port, {
        ...FAST_TIMINGS,
        NODE_NAME: node.name,
        AGENT_CHECK_PORT: String(node.agentPort),
        SC_MAX_SPAWNS: String(SLOTS),
        SC_PORT_BASE: String(PORT_BASE + 20 * node.index),
        SC_PORT_COUNT: String(2 * SLOTS),
        PUBLIC_BASE_URL: lb.url,
        PUBLIC_ENDPOINT: 'proxy',
        ...env[node.name],
      });
      cleanup.add(() => service.stop(5000), `node ${node.name}`);
      return [node.name, service] as const;
    }),
  );
  // Every node answers through the balancer (checks and agents have run at least once).
  const seen = new Set<string>();
  await waitFor(
    async () => {
      const response = await request(lb.url).get('/health/ready');
      if (response.status === 200)
        seen.add((response.body as { details: { spawner: { node: string } } }).details.spawner.node);
      return seen.size === NODE_NAMES.length;
    },
    10_000,
    { intervalMs: 20, description: () => `the balancer to reach every node (seen: ${[...seen].join(', ')})` },
  );
  return { lb, nodes: new Map(started), agentPorts: new Map(placed.map((n) => [n.name, n.agentPort])) };
}

function hoopsSpawn(url: string) {
  return request(url).post('/api/spawn').send({ class: 'csr_session' });
}

/** Node's spawn views through the balancer's per-node route (also checks the /n/<node>/ prefix). */
async function liveSpawnsOf(
  lb: RunningHaproxy,
  node: string,
): Promise<Array<{ id: string; state: string; wsPort: number; node: string }>> {
  const response = await request(lb.url).get(`/n/${node}/spawns`).expect(200);
  return (
    response.body as Array<{ id: string; state: string; wsPort: number; node: string; endedAt: string | null }>
  ).filter((s) => s.endedAt === null);
}

describe('scale-out behind HAProxy (e2e: real HAProxy, three real nodes)', () => {
  const cleanup = useCleanup();

  it("12 concurrent spawns fill 3 x 4 slots on 12 distinct (node, port) pairs; the 13th gets a node's 503 with Retry-After; every endpoint greets through the balancer; DELETE links.self ends that session", async () => {
    const { lb, agentPorts } = await startCluster(cleanup);
    for (const port of agentPorts.values()) expect(await agentSays(port)).toBe('up ready 100%\n');
    const responses = await Promise.all(Array.from({ length: 3 * SLOTS }, () => hoopsSpawn(lb.url)));
    expect(responses.map((r) => r.status)).toEqual(Array(3 * SLOTS).fill(200));
    const spawns = responses.map((r) => r.body as HoopsOk);

    const views = new Map<string, { node: string; wsPort: number }>();
    for (const spawn of spawns) {
      expect(spawn.links.self).toBe(`${lb.url}/n/${spawn.node}/spawns/${spawn.serviceId}`);
      expect(spawn.endpoints.ws).toMatch(relayUrlMatching(`${lb.url.replace('http', 'ws')}/n/${spawn.node}`));
      expect(spawn.links.ws).toBe(spawn.endpoints.ws);
      const view = (await request(spawn.links.self).get('').expect(200)).body as { node: string; wsPort: number };
      expect(view.node).toBe(spawn.node);
      views.set(spawn.serviceId, view);
    }
    const pairs = new Set([...views.values()].map((v) => `${v.node}:${v.wsPort}`));
    expect(pairs.size).toBe(3 * SLOTS);
    for (const name of NODE_NAMES) expect([...views.values()].filter((v) => v.node === name)).toHaveLength(SLOTS);

    // Full nodes are up with no weight (their sessions are served), not down.
    for (const port of agentPorts.values()) expect(await agentSays(port)).toBe('up ready 0%\n');
    const refused = await hoopsSpawn(lb.url);
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe(String(RETRY_AFTER_AT_CAPACITY_S)); // a node's answer, not HAProxy's
    expect(refused.body).toEqual({ status: 'failed', reason: `all ${SLOTS} spawn slots are in use` });

    const viewers = await Promise.all(spawns.map((spawn) => connectViewer(spawn.endpoints.ws, { cleanup })));
    for (const [i, viewer] of viewers.entries()) {
      expect(await viewer.nextJson()).toMatchObject({ type: 'hello', id: spawns[i].serviceId });
    }
    await viewers[0].send('through the balancer');
    expect((await viewers[0].next()).text).toBe('through the balancer');

    const victim = spawns[5];
    const deleted = await request(victim.links.self).delete('');
    expect(deleted.status).toBe(202);
    expect(deleted.body).toMatchObject({ id: victim.serviceId, node: victim.node });
    const closed = await viewers[5].closed;
    expect(closed.code).not.toBe(1006);
    const ended = await waitFor(
      async () => {
        const view = (await request(victim.links.self).get('')).body as { state: string; endedAt: string | null };
        return view.endedAt !== null ? view : undefined;
      },
      5000,
      { description: 'the deleted session to end' },
    );
    expect(ended.state).toBe('exited');
    // Every other session is still live on its node.
    const live = (await Promise.all(NODE_NAMES.map((n) => liveSpawnsOf(lb, n)))).flat().map((s) => s.id);
    expect(live.sort()).toEqual(
      spawns
        .filter((s) => s !== victim)
        .map((s) => s.serviceId)
        .sort(),
    );
  });

  it("a request under another node's prefix is answered 421 naming both nodes", async () => {
    const { nodes } = await startCluster(cleanup);
    const nodeA = nodes.get('node-a')!;
    const misdirected = await request(nodeA.url).get('/n/node-b/health');
    expect(misdirected.status).toBe(421);
    expect(misdirected.body.message).toMatch(/this is node "node-a", but the request is for node "node-b"/);
    const hoops = await request(nodeA.url).post('/n/node-b/api/spawn').send({});
    expect(hoops.status).toBe(421);
    expect(hoops.body).toEqual({ status: 'failed', reason: expect.stringContaining('"node-b"') });
  });

  it('SIGKILL one node: no client sees a connection error (HAProxy retries elsewhere), and within 3 s every new spawn goes straight to the others', async () => {
    const { lb, nodes } = await startCluster(cleanup);
    const killed = nodes.get('node-c')!;
    const killedAt = Date.now();
    killed.child.kill('SIGKILL');
    expect(await killed.exited).toEqual({ code: null, signal: 'SIGKILL' });

    // At once: the dead node's connection refusals are retried on the others.
    const early = await Promise.all(Array.from({ length: SLOTS }, () => hoopsSpawn(lb.url)));
    expect(early.map((r) => r.status)).toEqual(Array(SLOTS).fill(200));
    expect(early.map((r) => (r.body as HoopsOk).node)).not.toContain('node-c');
    for (const r of early)
      await request((r.body as HoopsOk).links.self)
        .delete('')
        .expect(202);
    await waitFor(
      async () => (await liveSpawnsOf(lb, 'node-a')).length + (await liveSpawnsOf(lb, 'node-b')).length === 0,
      5000,
      { description: 'the first spawns to end' },
    );

    // From 3 s on, the balancer has taken node-c out: every spawn fills the others, none is even retried.
    await sleep(Math.max(0, killedAt + 3000 - Date.now()));
    const logFrom = lb.output.join('').length;
    const late = await Promise.all(Array.from({ length: 2 * SLOTS }, () => hoopsSpawn(lb.url)));
    expect(late.map((r) => r.status)).toEqual(Array(2 * SLOTS).fill(200));
    const placedOn = late.map((r) => (r.body as HoopsOk).node);
    expect(placedOn.filter((n) => n === 'node-a')).toHaveLength(SLOTS);
    expect(placedOn.filter((n) => n === 'node-b')).toHaveLength(SLOTS);
    const logged = await waitFor(
      () => {
        const lines = lb.output
          .join('')
          .slice(logFrom)
          .split('\n')
          .filter((l) => l.includes('"POST /api/spawn'));
        return lines.length >= 2 * SLOTS ? lines : undefined;
      },
      2000,
      { description: 'HAProxy to log the late spawns' },
    );
    // httplog: "<backend>/<server> ... <actconn>/<feconn>/<beconn>/<srv_conn>/<retries>"; '+' marks a redispatch.
    for (const line of logged) {
      expect(line).not.toMatch(/node-c/);
      expect(line).toMatch(/ \d+\/\d+\/\d+\/\d+\/0 /);
    }
  });

  it('SIGTERM with DRAIN_TIMEOUT_S: no new spawn on the draining node, its viewer keeps echoing through the balancer, and it exits 0 once the viewer leaves', async () => {
    const { lb, nodes, agentPorts } = await startCluster(cleanup, { 'node-a': { DRAIN_TIMEOUT_S: '30' } });
    const nodeA = nodes.get('node-a')!;
    const spawn = (await hoopsSpawn(nodeA.url).expect(200)).body as HoopsOk;
    expect(spawn.node).toBe('node-a');
    const viewer = await connectViewer(spawn.links.ws, { cleanup });
    expect(await viewer.nextJson()).toMatchObject({ type: 'hello', id: spawn.serviceId });

    signalProcess(nodeA.child.pid!, 'SIGTERM');
    const status = await waitFor(
      async () => {
        const body = (await request(`${lb.url}/n/node-a`).get('/api/status').expect(200)).body as { draining: boolean };
        return body.draining ? body : undefined;
      },
      3000,
      { description: 'node-a to report draining' },
    );
    expect(status).toMatchObject({ draining: true, node: 'node-a', activeSpawns: 1 });
    expect(await agentSays(agentPorts.get('node-a')!)).toBe('drain\n');
    expect(await agentSays(agentPorts.get('node-b')!)).toBe('up ready 100%\n');
    expect((await request(nodeA.url).get('/health/ready')).status).toBe(503);
    const direct = await hoopsSpawn(nodeA.url);
    expect(direct.status).toBe(503);
    expect(direct.body.reason).toMatch(/^draining/);
    expect(direct.headers['retry-after']).toBeDefined();

    const placed = [];
    for (let i = 0; i < 6; i++) {
      const response = await hoopsSpawn(lb.url);
      expect(response.status).toBe(200);
      placed.push((response.body as HoopsOk).node);
      await viewer.send(`still here ${i}`);
      expect((await viewer.next()).text).toBe(`still here ${i}`);
    }
    expect(placed).not.toContain('node-a');
    expect(nodeA.child.exitCode).toBeNull();

    await viewer.close();
    expect(await nodeA.exited).toEqual({ code: 0, signal: null });
    expect(nodeA.output.join('')).toMatch(/drained: no live session left/);
  });

  it('a node that cannot spawn (executable missing) tells the agent check `down #<reason>`; its readiness is 503', async () => {
    const [port, agentPort] = [await freePort(), await freePort()];
    // Start-up refuses a missing executable, so it goes away once the node runs.
    const executable = join(makeTempDir(cleanup), 'ts3d_sc_server');
    writeFileSync(executable, '#!/bin/sh\nexit 0\n');
    chmodSync(executable, 0o755);
    const node = await startServiceProcess(port, {
      NODE_NAME: 'node-x',
      AGENT_CHECK_PORT: String(agentPort),
      SC_EXECUTABLE: executable,
      SC_LICENSE: 'not-a-real-key',
      SC_PORT_BASE: String(PORT_BASE + 200),
    });
    cleanup.add(() => node.stop(5000), 'node-x');
    expect(await agentSays(agentPort)).toBe('up ready 100%\n');
    unlinkSync(executable);
    expect(await agentSays(agentPort)).toBe(
      `down #the Stream Cache Server executable is missing or not executable: ${executable}\n`,
    );
    expect((await request(node.url).get('/n/node-x/health/ready')).status).toBe(503);
    signalProcess(node.child.pid!, 'SIGTERM');
    expect(await node.exited).toEqual({ code: 0, signal: null });
    await expect(agentSays(agentPort)).rejects.toThrow(/ECONNREFUSED/); // closed at shutdown
  });

  it('the drain timeout stops what is left (SIGTERM, then SIGKILL after the grace) and exits 0', async () => {
    const port = await freePort();
    const node = await startServiceProcess(port, {
      ...FAST_TIMINGS,
      NODE_NAME: 'node-t',
      SC_MAX_SPAWNS: '2',
      SC_PORT_BASE: String(PORT_BASE + 100),
      SC_PORT_COUNT: '4',
      DRAIN_TIMEOUT_S: '1',
    });
    cleanup.add(() => node.stop(5000), 'node-t');
    const spawns = await Promise.all([
      hoopsSpawn(node.url).expect(200),
      request(node.url).post('/spawn').send({ model: 'scsim:ignore-sigterm' }).expect(200),
    ]);
    const pids = await Promise.all(
      spawns.map(async (r) => {
        const id = (r.body as { serviceId?: string; id?: string }).serviceId ?? (r.body as { id: string }).id;
        return ((await request(node.url).get(`/n/node-t/spawns/${id}`).expect(200)).body as { pid: number }).pid;
      }),
    );
    for (const pid of pids) cleanup.trackPid(pid, { group: true });
    const sentAt = Date.now();
    signalProcess(node.child.pid!, 'SIGTERM');
    await sleep(500);
    expect(node.child.exitCode).toBeNull(); // still draining
    expect((await request(node.url).get('/api/status').expect(200)).body).toMatchObject({ draining: true });
    expect(await node.exited).toEqual({ code: 0, signal: null });
    const took = Date.now() - sentAt;
    expect(took).toBeGreaterThanOrEqual(1000 + 500 - 100); // the drain timeout, then the kill grace for the stubborn one
    expect(took).toBeLessThan(6000);
    for (const pid of pids) expect(isProcessGroupAlive(pid)).toBe(false);
    expect(node.output.join('')).toMatch(/drain timeout \(1 s\) passed: stopping the 2 session\(s\) left/);
  });
});

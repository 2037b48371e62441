/**
 * Scale-out: three built service nodes behind real HAProxy running deploy/haproxy/haproxy.cfg (loopback only).
 *
 *  - latency: POST /spawn through HAProxy vs straight to one node, interleaved, each spawn deleted (through
 *    its links.self) and waited for before the next; the ratio is the balancer's cost on a spawn.
 *  - burst: 3 x capacity + 10 concurrent POST /api/spawn through HAProxy: exactly 3 x capacity must succeed
 *    and the rest get 503 (a node's, with Retry-After); anything else fails the benchmark.
 */
import { spawn } from 'child_process';
import * as path from 'path';
import { performance } from 'perf_hooks';
import { startHaproxy, type BalancedNode } from '../support/haproxy';
import { freePort } from '../support/ports';
import { withCleanup, type Cleanup } from '../support/processes';
import { makeTempDir } from '../support/temp';
import { waitFor } from '../support/wait';
import type { BenchRow } from './stats';

const SERVICE_MAIN = path.resolve(__dirname, '../../dist/src/main.js');
const SAMPLES = Number(process.env.BENCH_SCALE_SAMPLES ?? 20);
const WARMUP = 2;
const CAPACITY = 8;
/** This benchmark's WebSocket ports (the scale-out range, away from its e2e file's). */
const PORT_BASE = 27200;

interface Spawned {
  id: string;
  node: string;
  links: { self: string };
}

export async function run(): Promise<BenchRow[]> {
  return withCleanup(async (cleanup) => {
    const nodes: BalancedNode[] = [];
    for (const name of ['node-a', 'node-b', 'node-c'])
      nodes.push({ name, port: await freePort(), agentPort: await freePort() });
    const lb = await startHaproxy(nodes, cleanup);
    await Promise.all(nodes.map((node, i) => startNode(node, PORT_BASE + 30 * i, lb.url, cleanup)));
    const direct = `http://127.0.0.1:${nodes[0].port}`;
    await waitFor(async () => (await fetch(`${lb.url}/health`)).ok, 10_000, { description: 'the balancer to answer' });

    const viaLb: number[] = [];
    const straight: number[] = [];
    for (let i = 0; i < WARMUP + SAMPLES; i++) {
      const a = await timeSpawn(lb.url);
      const b = await timeSpawn(direct);
      if (i >= WARMUP) {
        viaLb.push(a);
        straight.push(b);
      }
    }

    const burst = 3 * CAPACITY + 10;
    const startedAt = performance.now();
    const answers = await Promise.all(
      Array.from({ length: burst }, () =>
        fetch(`${lb.url}/api/spawn`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: '{}',
        }).then(async (r) => ({
          status: r.status,
          retryAfter: r.headers.get('retry-after'),
          body: (await r.json()) as Spawned & { links: { self: string } },
        })),
      ),
    );
    const burstMs = performance.now() - startedAt;
    const ok = answers.filter((a) => a.status === 200);
    const refused = answers.filter((a) => a.status === 503 && a.retryAfter !== null);
    const perNode = ['node-a', 'node-b', 'node-c'].map((n) => ok.filter((a) => a.body.node === n).length);
    for (const answer of ok) await deleteSpawn(answer.body.links.self);
    if (ok.length !== 3 * CAPACITY || refused.length !== 10) {
      throw new Error(
        `burst of ${burst}: ${ok.length} succeeded (want ${3 * CAPACITY}), ${refused.length} got 503 with Retry-After (want 10); statuses ${answers.map((a) => a.status).join(',')}`,
      );
    }

    const p50Lb = percentile(viaLb, 50);
    const p50Direct = percentile(straight, 50);
    const burstOk = ok.length === 3 * CAPACITY && refused.length === burst - 3 * CAPACITY;
    return [
      {
        row: 'POST /spawn through HAProxy (3 nodes)',
        unit: 'ms',
        n: viaLb.length,
        median: round(p50Lb),
        p99: '',
        anchor: 'POST /spawn straight to a node',
        anchorMedian: round(p50Direct),
        vsAnchor: `${round(p50Lb / p50Direct, 100)}x`,
        target: 'none (ratio reported)',
      },
      {
        row: `burst of 3 x ${CAPACITY} + 10 through HAProxy`,
        unit: 'answers',
        n: burst,
        median: `${ok.length} ok (${perNode.join('/')}), ${refused.length} x 503`,
        p99: '',
        anchor: '',
        target: `exactly ${3 * CAPACITY} succeed, the rest 503 + Retry-After`,
        pass: burstOk,
        note: `all answered in ${round(burstMs)} ms`,
      },
    ];
  });
}

async function startNode(node: BalancedNode, portBase: number, lbUrl: string, cleanup: Cleanup): Promise<void> {
  const child = spawn(process.execPath, [SERVICE_MAIN], {
    env: {
      ...process.env,
      NODE_ENV: 'production',
      NO_COLOR: '1',
      PORT: String(node.port),
      HOST: '127.0.0.1',
      NODE_NAME: node.name,
      AGENT_CHECK_PORT: String(node.agentPort),
      SC_MAX_SPAWNS: String(CAPACITY),
      SC_PORT_BASE: String(portBase),
      SC_PORT_COUNT: String(2 * CAPACITY),
      PUBLIC_BASE_URL: lbUrl,
      SC_STATE_DIR: makeTempDir(cleanup, 'sc-bench-state-'),
    },
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  cleanup.trackChild(child);
  cleanup.add(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await waitFor(() => child.exitCode !== null || child.signalCode !== null, 15_000, {
      description: `${node.name} to exit`,
    });
  }, `${node.name} SIGTERM`);
  await waitFor(async () => (await fetch(`http://127.0.0.1:${node.port}/health`)).ok, 15_000, {
    intervalMs: 50,
    description: `${node.name} to answer /health`,
  });
}

/** One POST /spawn timed to its 200; then DELETE through links.self and wait until it has ended. */
async function timeSpawn(url: string): Promise<number> {
  const started = performance.now();
  const response = await fetch(`${url}/spawn`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: '{}',
  });
  const elapsed = performance.now() - started;
  const body = (await response.json()) as Spawned;
  if (response.status !== 200)
    throw new Error(`POST ${url}/spawn answered ${response.status}: ${JSON.stringify(body)}`);
  const self = new URL(body.links.self, url).href;
  await deleteSpawn(self);
  await waitFor(
    async () => ((await (await fetch(self)).json()) as { endedAt: string | null }).endedAt !== null,
    10_000,
    {
      intervalMs: 5,
      description: `spawn ${body.id} to end`,
    },
  );
  return elapsed;
}

/** DELETE; once more after a connection error (a pooled keep-alive socket the balancer had just closed). */
async function deleteSpawn(url: string): Promise<void> {
  const response = await fetch(url, { method: 'DELETE' }).catch(() => fetch(url, { method: 'DELETE' }));
  if (response.status !== 202) throw new Error(`DELETE ${url} answered ${response.status}`);
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
}

function round(value: number, factor = 10): number {
  return Math.round(value * factor) / factor;
}

/**
 * Spawn storm: does the control plane keep its CPU while servers boot?
 *
 *  - storm: the built service (dist/src/main.js) as a real process with 32 slots on the simulator; 1,000
 *    concurrent `POST /spawn`: 32 get a server (all 32 boot at once), 968 get 503 + Retry-After. Timed: each
 *    503, from sending the request to its answer.
 *  - idle: the same burst of 1,000 concurrent `GET /health/ready` on the same service with nothing running.
 *
 * Both bursts go over 1,000 keep-alive connections opened just before. Each round runs idle then storm, then stops the 32 servers and waits until they are gone. The service runs
 * once with SC_NICE=10 (the default: servers below the service) and once with SC_NICE=0, for comparison
 * (BENCH_STORM_NICE=19,10 picks others).
 * Reported: median over the rounds of each burst's p99 (nearest rank), and storm / idle. Target: <= 1.5.
 * Talks only to 127.0.0.1; every process it starts is stopped. Needs `npm run build` first.
 */
import { spawn } from 'child_process';
import * as http from 'http';
import { createServer as createNetServer } from 'net';
import * as path from 'path';
import { performance } from 'perf_hooks';
import { isProcessAlive, withCleanup, type Cleanup } from '../support/processes';
import { waitFor } from '../support/wait';

export const title =
  'Spawn storm: p99 of 1,000 concurrent POST /spawn at 32 slots (the 503s) vs GET /health/ready idle';

const SERVICE_MAIN = path.resolve(__dirname, '../../dist/src/main.js');
const BURST = Number(process.env.BENCH_STORM_BURST ?? 1000);
const ROUNDS = Number(process.env.BENCH_STORM_ROUNDS ?? 3);
const SLOTS = 32;
/** This benchmark's WebSocket ports (25400-25499). */
const PORT_BASE = 25400;

export async function run(): Promise<Array<Record<string, string | number>>> {
  const rows: Array<Record<string, string | number>> = [];
  for (const nice of (process.env.BENCH_STORM_NICE ?? '10,0').split(',')) {
    const result = await withCleanup((cleanup) => measure(cleanup, nice));
    rows.push(
      { metric: `SC_NICE=${nice}: idle GET /health/ready p99 (ms)`, value: result.idle, rounds: result.idleAll },
      { metric: `SC_NICE=${nice}: storm POST /spawn 503 p99 (ms)`, value: result.storm, rounds: result.stormAll },
      {
        metric: `SC_NICE=${nice}: ratio storm / idle (target <= 1.5)`,
        value: round(result.storm / result.idle, 100),
        rounds: '',
      },
    );
  }
  return rows;
}

interface Measured {
  idle: number;
  storm: number;
  idleAll: string;
  stormAll: string;
}

async function measure(cleanup: Cleanup, nice: string): Promise<Measured> {
  const url = await startService(cleanup, nice);
  // Keep-alive sockets, opened before each burst: the burst then measures the service, not 1,000 TCP handshakes
  // overflowing its accept queue (SYN retries of a second would dominate both p99s).
  const agent = new http.Agent({ keepAlive: true, maxSockets: BURST, maxFreeSockets: BURST });
  cleanup.add(() => agent.destroy(), 'agent');
  const idleP99: number[] = [];
  const stormP99: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    await burst(agent, url, 'GET', '/health'); // opens the sockets
    const idle = await burst(agent, url, 'GET', '/health/ready');
    if (idle.some((r) => r.status !== 200)) throw new Error('GET /health/ready was not 200 on an idle service');
    idleP99.push(
      percentile(
        idle.map((r) => r.ms),
        99,
      ),
    );

    await burst(agent, url, 'GET', '/health');
    const storm = await burst(agent, url, 'POST', '/spawn', '{}');
    const ready = storm.filter((r) => r.status === 200);
    const refused = storm.filter((r) => r.status === 503);
    if (ready.length !== SLOTS || refused.length !== BURST - SLOTS || refused.some((r) => r.retryAfter === undefined)) {
      throw new Error(
        `expected exactly ${SLOTS} ready and ${BURST - SLOTS} 503 with Retry-After, got ${ready.length} ready, ${refused.length} 503, others: ${storm
          .filter((r) => r.status !== 200 && r.status !== 503)
          .map((r) => r.status)
          .join(',')}`,
      );
    }
    stormP99.push(
      percentile(
        refused.map((r) => r.ms),
        99,
      ),
    );
    await stopAll(
      url,
      ready.map((r) => JSON.parse(r.body) as { id: string; pid: number }),
    );
  }
  return {
    idle: round(median(idleP99)),
    storm: round(median(stormP99)),
    idleAll: idleP99.map((v) => round(v)).join(' '),
    stormAll: stormP99.map((v) => round(v)).join(' '),
  };
}

async function startService(cleanup: Cleanup, nice: string): Promise<string> {
  const port = await freePort();
  const stderr: string[] = [];
  const child = spawn(process.execPath, [SERVICE_MAIN], {
    env: {
      ...process.env,
      NODE_ENV: 'production',
      NO_COLOR: '1',
      PORT: String(port),
      HOST: '127.0.0.1',
      SC_PORT_BASE: String(PORT_BASE),
      SC_MAX_SPAWNS: String(SLOTS),
      SC_NICE: nice,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  cleanup.trackChild(child);
  cleanup.add(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await waitFor(() => child.exitCode !== null || child.signalCode !== null, 20_000, {
      description: 'the service to exit',
    });
  }, 'service SIGTERM');
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await request(undefined, url, 'GET', '/health')).status === 200, 15_000, {
    intervalMs: 50,
    description: () => `the service to answer /health; stderr: ${stderr.join('')}`,
  });
  return url;
}

interface Answer {
  status: number;
  ms: number;
  body: string;
  retryAfter?: string;
}

/** BURST requests sent at once; each timed from its send to its whole answer. */
function burst(agent: http.Agent, url: string, method: string, path: string, body?: string): Promise<Answer[]> {
  return Promise.all(Array.from({ length: BURST }, () => request(agent, url, method, path, body)));
}

function request(
  agent: http.Agent | undefined,
  base: string,
  method: string,
  path: string,
  body?: string,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: http.OutgoingHttpHeaders =
      body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
    const started = performance.now();
    const req = http.request(new URL(path, base), { method, headers, agent: agent ?? false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          ms: performance.now() - started,
          body: Buffer.concat(chunks).toString('utf8'),
          retryAfter: res.headers['retry-after'],
        }),
      );
      res.on('error', reject);
    });
    req.setTimeout(60_000, () => req.destroy(new Error(`${method} ${path}: no answer within 60 s`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** DELETE every spawn and wait until its process is gone and the service counts it as ended. */
async function stopAll(url: string, spawns: Array<{ id: string; pid: number }>): Promise<void> {
  await Promise.all(spawns.map((s) => request(undefined, url, 'DELETE', `/spawns/${s.id}`)));
  await waitFor(() => spawns.every((s) => !isProcessAlive(s.pid)), 20_000, { description: 'the servers to exit' });
  await waitFor(
    async () => JSON.parse((await request(undefined, url, 'GET', '/health')).body).details.spawner.activeSpawns === 0,
    10_000,
    { intervalMs: 50, description: 'the service to count no active spawn' },
  );
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createNetServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Nearest-rank percentile. */
function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(1, Math.ceil((p / 100) * sorted.length)) - 1];
}

function median(values: number[]): number {
  return percentile(values, 50);
}

function round(value: number, factor = 10): number {
  return Math.round(value * factor) / factor;
}

if (require.main === module) {
  void run().then((rows) => console.table(rows));
}

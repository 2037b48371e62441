/**
 * Spawn latency: what the service adds on top of the Stream Cache Server's own startup.
 *
 *  - service: the built service (dist/src/main.js) as a real process; N sequential `POST /spawn`, each
 *    timed from sending the request to receiving the 200 (the server is ready then), then deleted and
 *    waited for (its pid gone) before the next one.
 *  - bare: N sequential launches of the same executable directly, each timed from spawn() to its
 *    `ready` liveliness POST arriving at a tiny local HTTP receiver, then SIGTERMed and waited for.
 *
 * The two are interleaved (service, bare, service, bare...) so both see the same machine load, after
 * a few discarded warm-up rounds. Percentiles are nearest-rank (the p99 of 50 samples is the maximum).
 * Needs `npm run build` first (npm run bench does it).
 */
import { spawn, type ChildProcess } from 'child_process';
import { randomUUID } from 'crypto';
import * as http from 'http';
import { createServer as createNetServer } from 'net';
import * as path from 'path';
import { performance } from 'perf_hooks';
import { toArgv } from '@app/sc-protocol';
import { SIMULATOR_DUMMY_LICENSE } from '../../src/config/app-config';
import { isProcessAlive, withCleanup, type Cleanup } from '../support/processes';
import { SIM_EXECUTABLE } from '../support/simulator';
import { waitFor } from '../support/wait';

export const title = 'Spawn latency: POST /spawn through the service vs the bare simulator (spawn to ready)';

/** The built service (not imported from spawner-app, which would load the whole Nest app into this process). */
const SERVICE_MAIN = path.resolve(__dirname, '../../dist/src/main.js');
const SAMPLES = Number(process.env.BENCH_SPAWN_SAMPLES ?? 50);
const WARMUP = 3;
/** Own port ranges, away from the e2e suites'. */
const SERVICE_PORT_BASE = 24000;
const BARE_PORT_BASE = 24400;

export async function run(): Promise<Array<Record<string, string | number>>> {
  return withCleanup(async (cleanup) => {
    const service = await startService(cleanup);
    const receiver = await startReadyReceiver(cleanup);
    const serviceMs: number[] = [];
    const bareMs: number[] = [];
    for (let i = 0; i < WARMUP + SAMPLES; i++) {
      const s = await timeServiceSpawn(service.url);
      const b = await timeBareSpawn(receiver, BARE_PORT_BASE + (i % 200), cleanup);
      if (i >= WARMUP) {
        serviceMs.push(s);
        bareMs.push(b);
      }
    }
    const row = (metric: string, values: number[]) => ({
      metric,
      n: values.length,
      median: round(percentile(values, 50)),
      p99: round(percentile(values, 99)),
      min: round(Math.min(...values)),
      max: round(Math.max(...values)),
    });
    const serviceRow = row('service: POST /spawn to 200 (ms)', serviceMs);
    const bareRow = row('bare simulator: spawn() to ready (ms)', bareMs);
    return [
      serviceRow,
      bareRow,
      {
        metric: 'ratio service / bare',
        n: SAMPLES,
        median: round(serviceRow.median / bareRow.median, 100),
        p99: round(serviceRow.p99 / bareRow.p99, 100),
        min: round(serviceRow.min / bareRow.min, 100),
        max: round(serviceRow.max / bareRow.max, 100),
      },
      {
        metric: 'difference service - bare (ms)',
        n: SAMPLES,
        median: round(serviceRow.median - bareRow.median),
        p99: round(serviceRow.p99 - bareRow.p99),
        min: '',
        max: '',
      },
    ];
  });
}

export interface Service {
  url: string;
  child: ChildProcess;
}

/** The built service as a real process with default timings; its log goes to /dev/null so logging is real but costs the benchmark nothing. */
export async function startService(
  cleanup: Cleanup,
  env: Record<string, string> = {},
  portBase = SERVICE_PORT_BASE,
): Promise<Service> {
  const port = await freePort();
  const stderr: string[] = [];
  const child = spawn(process.execPath, [SERVICE_MAIN], {
    env: {
      ...process.env,
      NODE_ENV: 'production',
      NO_COLOR: '1',
      PORT: String(port),
      HOST: '127.0.0.1',
      SC_PORT_BASE: String(portBase),
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  cleanup.trackChild(child);
  cleanup.add(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await waitFor(() => child.exitCode !== null || child.signalCode !== null, 15_000, {
      description: 'the service to exit',
    });
  }, 'service SIGTERM');
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await httpRequest(url, 'GET', '/health')).status === 200, 15_000, {
    intervalMs: 50,
    description: () => `the service to answer /health; stderr: ${stderr.join('')}`,
  });
  return { url, child };
}

/** One POST /spawn, timed to its answer; then DELETE and wait until the process is gone. */
export async function timeServiceSpawn(url: string, headers: Record<string, string> = {}): Promise<number> {
  const started = performance.now();
  const response = await httpRequest(url, 'POST', '/spawn', '{}', headers);
  const elapsed = performance.now() - started;
  if (response.status !== 200) throw new Error(`POST /spawn answered ${response.status}: ${response.body}`);
  const { id, pid } = JSON.parse(response.body) as { id: string; pid: number };
  const deleted = await httpRequest(url, 'DELETE', `/spawns/${id}`, undefined, headers);
  if (deleted.status !== 202) throw new Error(`DELETE /spawns/${id} answered ${deleted.status}`);
  await waitFor(() => !isProcessAlive(pid), 10_000, { intervalMs: 5, description: `spawn ${id} (pid ${pid}) to exit` });
  await waitFor(
    async () =>
      ['exited', 'failed'].includes(
        JSON.parse((await httpRequest(url, 'GET', `/spawns/${id}`, undefined, headers)).body).state,
      ),
    5000,
    {
      intervalMs: 5,
      description: `spawn ${id} to be recorded as ended`,
    },
  );
  return elapsed;
}

interface ReadyReceiver {
  url: string;
  /** Resolves with performance.now() at the moment the `ready` POST for id arrived. */
  readyAt(id: string): Promise<number>;
}

/** A minimal liveliness endpoint that timestamps each `ready` as it arrives (no polling in between). */
async function startReadyReceiver(cleanup: Cleanup): Promise<ReadyReceiver> {
  const waiting = new Map<string, (at: number) => void>();
  const server = http.createServer((req, res) => {
    const at = performance.now();
    const url = new URL(req.url ?? '/', 'http://receiver');
    const id = decodeURIComponent(url.pathname.split('/').pop() ?? '');
    if (url.searchParams.get('liveliness') === 'ready') waiting.get(id)?.(at);
    req.resume();
    res.writeHead(200).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.add(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
    'ready receiver',
  );
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/liveliness`,
    readyAt: (id) => new Promise((resolve) => waiting.set(id, resolve)),
  };
}

/** Launches the simulator as the service would (own process group, same kind of argv), timed from spawn() to its ready report. */
async function timeBareSpawn(receiver: ReadyReceiver, port: number, cleanup: Cleanup): Promise<number> {
  const id = randomUUID();
  const args = toArgv({
    id,
    scPort: port,
    licenseFile: SIMULATOR_DUMMY_LICENSE,
    csr: true,
    livelinessEndpoint: receiver.url,
    livelinessUpdateFrequency: 5,
    initialUseDuration: 60,
  });
  const ready = receiver.readyAt(id);
  const started = performance.now();
  const child = spawn(SIM_EXECUTABLE, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.resume();
  child.stderr.resume();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  cleanup.trackChild(child, { group: true, exited });
  const failedEarly = exited.then(() => {
    throw new Error(`bare simulator on port ${port} exited before ready`);
  });
  const readyAt = await Promise.race([ready, failedEarly]);
  const elapsed = readyAt - started;
  child.kill('SIGTERM');
  await exited;
  return elapsed;
}

interface HttpResult {
  status: number;
  body: string;
}

export function httpRequest(
  base: string,
  method: string,
  path: string,
  body?: string,
  extraHeaders: Record<string, string> = {},
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const headers: http.OutgoingHttpHeaders = {
      ...extraHeaders,
      ...(body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }),
    };
    const req = http.request(new URL(path, base), { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
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
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(1, Math.ceil((p / 100) * sorted.length)) - 1];
}

export function round(value: number, factor = 10): number {
  return Math.round(value * factor) / factor;
}

if (require.main === module) {
  void run().then((rows) => console.table(rows));
}

/**
 * Helpers for the spawner's end-to-end tests: talk to the service over real HTTP, and check the
 * processes it starts through the operating system (pid, process group, /proc), never through the
 * service's own bookkeeping alone.
 */
import { readFileSync } from 'fs';
import * as http from 'http';
import { createServer, type Server } from 'net';
import request from 'supertest';
import type { Subscription } from 'rxjs';
import type { SpawnViewDto } from '../../src/spawn/dto/spawn-view.dto';
import { SpawnEvents, type SpawnEvent } from '../../src/supervisor/runtime/spawn-events';
import { SupervisorService } from '../../src/supervisor/runtime/supervisor.service';
import { Cleanup, isProcessAlive, isProcessGroupAlive, signalProcess } from './processes';

export { procStat } from './processes';
import { startApp, type RunningApp } from './spawner-app';
import { waitFor } from './wait';

/** The body of a spawn as the API shows it (GET /spawns/:id, POST /spawn): the DTO itself, so it stays in step. */
export type SpawnView = SpawnViewDto;

export interface TrackedApp extends RunningApp {
  supervisor: SupervisorService;
  /** Every state change of every spawn, in order, as the service emitted it. */
  events: SpawnEvent[];
  /** Pids of every process the service started (and the grandchildren they announced), as seen so far. */
  knownPids(): number[];
}

/**
 * startApp() with cleanup: at cleanup the app is closed through its real shutdown path, then every
 * process group it ever started is checked through the OS. Anything still alive is SIGKILLed and the
 * cleanup fails, naming it: closing the service must leave no process behind.
 */
export async function startTrackedApp(
  cleanup: Cleanup,
  env: Record<string, string | undefined>,
  override?: Parameters<typeof startApp>[1],
): Promise<TrackedApp> {
  const running = await startApp(env, override);
  const supervisor = running.app.get(SupervisorService);
  const events: SpawnEvent[] = [];
  const subscription: Subscription = running.app.get(SpawnEvents).changes$.subscribe((event) => events.push(event));
  const knownPids = (): number[] => {
    const pids = new Set<number>();
    for (const record of supervisor.list()) {
      if (record.pid !== undefined) pids.add(record.pid);
      for (const pid of grandchildPidsIn(supervisor.logs(record.id).map((l) => l.line))) pids.add(pid);
    }
    return [...pids];
  };
  cleanup.add(async () => {
    const before = knownPids();
    subscription.unsubscribe();
    // Whether close() succeeds or not, every process is checked (and killed) before anything is reported.
    const closed = await running.close().then(
      () => undefined,
      (error: unknown) => (error instanceof Error ? error : new Error(String(error))),
    );
    const pids = [...new Set([...before, ...knownPids()])];
    const leftovers = pids.filter((pid) => isProcessAlive(pid) || isProcessGroupAlive(pid));
    for (const pid of leftovers) {
      signalProcess(pid, 'SIGKILL', true);
      signalProcess(pid, 'SIGKILL');
    }
    if (leftovers.length > 0) {
      await waitFor(() => leftovers.every((pid) => !isProcessAlive(pid) && !isProcessGroupAlive(pid)), 5000, {
        description: `leftover processes ${leftovers.join(', ')} to die after SIGKILL`,
      });
      throw new Error(`processes still running after the app closed (killed now): ${leftovers.join(', ')}`);
    }
    if (closed !== undefined) throw closed;
  }, `spawner app on port ${running.port}`);
  return { ...running, supervisor, events, knownPids };
}

/** `grandchild pid <n>` lines printed by the simulator's spawn-grandchild fault. */
export function grandchildPidsIn(lines: readonly string[]): number[] {
  return lines.flatMap((line) => {
    const match = /grandchild pid (\d+)/.exec(line);
    return match ? [Number(match[1])] : [];
  });
}

/** Waits until the spawn's captured output announces its grandchild, and returns that pid. */
export function waitForGrandchildPid(app: TrackedApp, id: string, timeoutMs = 5000): Promise<number> {
  return waitFor(
    () => grandchildPidsIn(app.supervisor.get(id) ? app.supervisor.logs(id).map((l) => l.line) : [])[0],
    timeoutMs,
    {
      description: `spawn ${id} to print its grandchild pid`,
    },
  );
}

export function postSpawn(url: string, body: object = {}) {
  return request(url).post('/spawn').send(body);
}

export async function getSpawn(url: string, id: string): Promise<SpawnView> {
  const response = await request(url).get(`/spawns/${id}`);
  if (response.status !== 200)
    throw new Error(`GET /spawns/${id}: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body as SpawnView;
}

/**
 * Polls GET /spawns/:id until `holds(view)`, e.g. once the relay process has reported its counts (within 20 ms of
 * the traffic); returns that view.
 */
export function waitForSpawnView(
  url: string,
  id: string,
  holds: (view: SpawnView) => boolean,
  description: string,
  timeoutMs = 2000,
): Promise<SpawnView> {
  return waitFor(
    async () => {
      const view = await getSpawn(url, id);
      return holds(view) ? view : undefined;
    },
    timeoutMs,
    { description },
  );
}

/** Polls GET /spawns/:id until its state is one of `states`; returns that view. */
export function waitForSpawnState(
  url: string,
  id: string,
  states: string | string[],
  timeoutMs = 5000,
): Promise<SpawnView> {
  const wanted = Array.isArray(states) ? states : [states];
  let last: SpawnView | undefined;
  return waitFor(
    async () => {
      last = await getSpawn(url, id);
      return wanted.includes(last.state) ? last : undefined;
    },
    timeoutMs,
    {
      intervalMs: 20,
      description: () => `spawn ${id} to be ${wanted.join(' or ')} (last seen: ${last?.state ?? 'nothing'})`,
    },
  );
}

/** Whether pid is gone and its process group is empty (zombies count as gone). */
export function isGone(pid: number): boolean {
  return !isProcessAlive(pid) && !isProcessGroupAlive(pid);
}

/** Waits until the process and everything in its process group are gone. */
export function waitForProcessGone(pid: number, timeoutMs = 5000): Promise<true> {
  return waitFor(() => isGone(pid), timeoutMs, {
    description: () =>
      `process ${pid} and its group to be gone (alive: ${isProcessAlive(pid)}, group alive: ${isProcessGroupAlive(pid)})`,
  });
}

/** The argv of a running process, from /proc/<pid>/cmdline. */
export function procArgv(pid: number): string[] {
  const parts = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  if (parts[parts.length - 1] === '') parts.pop();
  return parts;
}

/** The environment of a running process (our own child), from /proc/<pid>/environ. */
export function procEnv(pid: number): Record<string, string> {
  const env: Record<string, string> = {};
  for (const entry of readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')) {
    const eq = entry.indexOf('=');
    if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return env;
}

/** The value following `flag` in an argv. */
export function argAfter(argv: readonly string[], flag: string): string | undefined {
  const i = argv.indexOf(flag);
  return i === -1 ? undefined : argv[i + 1];
}

/** Whether the port can be bound right now on all interfaces (as the Stream Cache Server binds it). */
export function canBindPort(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** Another program holding `port` on all interfaces, until cleanup. */
export async function holdPort(port: number, cleanup: Cleanup): Promise<Server> {
  const server = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, exclusive: true }, () => resolve());
  });
  cleanup.add(() => new Promise<void>((resolve) => server.close(() => resolve())), `port holder on ${port}`);
  return server;
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  json(): any;
}

/** A plain HTTP request with an exact body (for malformed JSON) and no connection reuse. */
export function rawRequest(
  url: string,
  method: string,
  path: string,
  body?: string | Buffer,
  headers: Record<string, string> = body === undefined ? {} : { 'content-type': 'application/json' },
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      new URL(path, url),
      { method, headers: { connection: 'close', ...headers }, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text, json: () => JSON.parse(text) });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * POST /spawn that the client abandons after `abortAfterMs`: the socket is destroyed, as when a
 * browser tab closes. Resolves once the request has been aborted (with whatever happened first).
 */
export function postSpawnAndAbort(url: string, body: object, abortAfterMs: number): Promise<'aborted' | 'answered'> {
  return new Promise((resolve) => {
    const payload = JSON.stringify(body);
    const req = http.request(new URL('/spawn', url), {
      method: 'POST',
      agent: false,
      headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) },
    });
    const timer = setTimeout(() => {
      req.destroy();
      resolve('aborted');
    }, abortAfterMs);
    req.on('response', (res) => {
      clearTimeout(timer);
      res.resume();
      resolve('answered');
    });
    req.on('error', () => undefined);
    req.end(payload);
  });
}

export interface UpgradeAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A WebSocket handshake on `path` whose HTTP answer (a refusal, or 101) is returned as is. */
export function rawUpgrade(
  baseUrl: string,
  path: string,
  headers: Record<string, string> = {},
): { answer: Promise<UpgradeAnswer>; request: http.ClientRequest } {
  const req = http.request(new URL(path, baseUrl), {
    agent: false,
    headers: {
      ...headers,
      connection: 'Upgrade',
      upgrade: 'websocket',
      'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
      'sec-websocket-version': '13',
    },
  });
  const answer = new Promise<UpgradeAnswer>((resolve, reject) => {
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }),
      );
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body: '' });
    });
    req.on('error', reject);
  });
  req.end();
  return { answer, request: req };
}

/** The processes the benchmarks compare: the built service, the minimal spawner, and bare simulators. */
import { spawn, type ChildProcess } from 'child_process';
import { randomUUID } from 'crypto';
import * as http from 'http';
import * as path from 'path';
import { performance } from 'perf_hooks';
import { toArgv } from '@app/sc-protocol';
import { SIMULATOR_DUMMY_LICENSE } from '../../src/config/bundled-files';
import { freePort } from '../support/ports';
import type { Cleanup } from '../support/processes';
import { SIM_EXECUTABLE } from '../support/simulator';
import { makeTempDir } from '../support/temp';
import { waitFor } from '../support/wait';
import { launchLikeService, serverStartLikeService } from './fair-start';
import { httpRequest } from './stats';

const REPO = path.resolve(__dirname, '../..');
const SERVICE_MAIN = path.join(REPO, 'dist/src/main.js');

export interface BenchService {
  url: string;
  child: ChildProcess;
}

/** The built service as its own process; its log goes to /dev/null (logging is real, reading it costs nothing). */
export async function startService(cleanup: Cleanup, env: Record<string, string>): Promise<BenchService> {
  const port = await freePort();
  const stderr: string[] = [];
  // A state folder of the bench's (removed after the service has stopped), not sc-spawner-<PORT> in the temp folder.
  const SC_STATE_DIR = makeTempDir(cleanup, 'sc-bench-state-');
  const child = spawn(process.execPath, [SERVICE_MAIN], {
    env: {
      ...process.env,
      NODE_ENV: 'production',
      NO_COLOR: '1',
      PORT: String(port),
      HOST: '127.0.0.1',
      SC_STATE_DIR,
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
  // Generous: on a loaded machine the service may take long to start; the rows measure only what follows.
  await waitFor(async () => (await httpRequest(url, 'GET', '/health')).status === 200, 60_000, {
    intervalMs: 50,
    description: () => `the service to answer /health; stderr: ${stderr.join('')}`,
  });
  return { url, child };
}

/** The minimal tutorial-style spawner (minimal-spawner.ts) as its own process. */
export async function startMinimalSpawner(cleanup: Cleanup, portBase: number): Promise<BenchService> {
  const start = serverStartLikeService(cleanup);
  const child = spawn(
    process.execPath,
    [
      '-r',
      'ts-node/register',
      '-r',
      'tsconfig-paths/register',
      path.join(__dirname, 'minimal-spawner.ts'),
      SIM_EXECUTABLE,
      SIMULATOR_DUMMY_LICENSE,
      String(portBase),
      JSON.stringify({ env: start.env, placement: start.placement }),
    ],
    { cwd: REPO, env: { ...process.env, TS_NODE_TRANSPILE_ONLY: '1' }, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  cleanup.trackChild(child);
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      const match = /listening (\d+)/.exec(chunk.toString());
      if (match) resolve(Number(match[1]));
    });
    child.once('exit', (code) => reject(new Error(`the minimal spawner exited (${code})`)));
  });
  return { url: `http://127.0.0.1:${port}`, child };
}

export interface ReadyReceiver {
  url: string;
  /** Resolves with performance.now() at the moment the `ready` POST for id arrived. */
  readyAt(id: string): Promise<number>;
}

/** A minimal liveliness endpoint that timestamps each `ready` as it arrives. */
export async function startReadyReceiver(cleanup: Cleanup): Promise<ReadyReceiver> {
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

export interface BareSimulator {
  /** ms from spawn() to the ready report. */
  startupMs: number;
  stop(): Promise<void>;
}

/**
 * Launches the simulator as the service would (same environment, same CPU priority and process group, same kind
 * of argv) and waits for its ready report.
 */
export async function startBareSimulator(
  receiver: ReadyReceiver,
  port: number,
  cleanup: Cleanup,
): Promise<BareSimulator> {
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
  const server = await launchLikeService(serverStartLikeService(cleanup), SIM_EXECUTABLE, args);
  const { exited } = server;
  cleanup.add(async () => {
    server.kill('SIGKILL');
    await exited;
  }, `bare simulator ${server.pid}`);
  const failedEarly = exited.then(() => {
    throw new Error(`bare simulator on port ${port} exited before ready`);
  });
  const readyAt = await Promise.race([ready, failedEarly]);
  return {
    startupMs: readyAt - started,
    stop: async () => {
      server.kill('SIGTERM');
      await exited;
    },
  };
}

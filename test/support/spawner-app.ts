import { INestApplication } from '@nestjs/common';
import { Test, TestingModuleBuilder } from '@nestjs/testing';
import { ChildProcess, spawn } from 'child_process';
import type { AddressInfo } from 'net';
import * as path from 'path';
import { AppModule } from '../../src/app.module';
import { APP_OPTIONS, configureApp } from '../../src/app.setup';
import { listenWithBacklog } from '../../src/http/listen';
import { ownStateDir } from './temp';

export const REPO_ROOT = path.resolve(__dirname, '../..');
export const SERVICE_MAIN = path.join(REPO_ROOT, 'dist/src/main.js');

/** Short timings so failure paths finish in seconds; each test file passes its own SC_PORT_BASE. */
export const FAST_TIMINGS: Record<string, string> = {
  SC_LIVELINESS_INTERVAL_S: '0.2',
  PING_TIMEOUT_S: '1',
  // Generous: a loaded CI machine (the packaged-build test runs npm ci beside the others) starts servers slowly.
  SPAWN_READY_TIMEOUT_S: '5',
  KILL_GRACE_S: '0.5',
  SWEEP_INTERVAL_MS: '100',
  SC_INITIAL_USE_DURATION_S: '30',
  // With a 1 s ping timeout, servers ranked far below the busy test process (a cgroup weight of 2 against 1024)
  // can miss their pings and be taken for hung; plain nice ranks them below it without starving them. Each
  // mechanism, cgroups included, is tested on its own in cpu-priority.e2e-spec.ts.
  SC_CPU_PRIORITY: 'nice',
};

export interface RunningApp {
  app: INestApplication;
  /** http://127.0.0.1:<port> */
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * The production module graph and pipeline (configureApp), in this process, on an ephemeral port; `override`
 * may replace providers (overrideProvider) with the fakes of test/fakes.
 * close() runs the real shutdown path, which stops every child it started.
 */
export async function startApp(
  env: Record<string, string | undefined> = {},
  override: (builder: TestingModuleBuilder) => TestingModuleBuilder = (builder) => builder,
): Promise<RunningApp> {
  const moduleRef = await override(
    Test.createTestingModule({
      imports: [
        AppModule.forRoot({
          PORT: '0',
          HOST: '127.0.0.1',
          // Nest's logger is off below; this keeps the access log (pino) quiet too.
          LOG_LEVEL: process.env.TEST_LOGS ? undefined : 'silent',
          ...env,
        }),
      ],
    }),
  ).compile();
  const app = moduleRef.createNestApplication({ ...APP_OPTIONS, logger: process.env.TEST_LOGS ? undefined : false });
  configureApp(app);
  await listenWithBacklog(app, 0, '127.0.0.1');
  const port = (app.getHttpServer().address() as AddressInfo).port;
  return { app, port, url: `http://127.0.0.1:${port}`, close: () => app.close() };
}

export interface ServiceProcess {
  child: ChildProcess;
  url: string;
  port: number;
  output: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, then wait for exit (SIGKILL after timeoutMs). */
  stop(timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface ServiceProcessOptions {
  /** The service's entry file (default: this repository's dist/src/main.js). */
  main?: string;
  /** Working directory of the service (default: the test's own). */
  cwd?: string;
  startTimeoutMs?: number;
  /** A command the service runs under, e.g. setpriv to run it as another user. */
  runUnder?: string[];
}

/**
 * The built service (dist/src/main.js) as a real process; resolves once it listens.
 * `env` is added to this process's environment; a variable set to undefined is removed.
 */
export async function startServiceProcess(
  port: number,
  env: Record<string, string | undefined> = {},
  { main = SERVICE_MAIN, cwd, startTimeoutMs = 15_000, runUnder = [] }: ServiceProcessOptions = {},
): Promise<ServiceProcess> {
  const output: string[] = [];
  const [file, ...args] = [...runUnder, process.execPath, main];
  const state = ownStateDir(env);
  const child = spawn(file, args, {
    env: {
      ...process.env,
      NODE_ENV: 'test',
      NO_COLOR: '1',
      PORT: String(port),
      HOST: '127.0.0.1',
      // Everything, the servers' own output lines included (logged at debug).
      LOG_LEVEL: 'debug',
      ...state.env,
      ...env,
    },
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      state.remove();
      resolve({ code, signal });
    }),
  );
  const listening = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`service did not start within ${startTimeoutMs} ms:\n${output.join('')}`)),
      startTimeoutMs,
    );
    let tail = '';
    const onData = (chunk: Buffer) => {
      const text = chunk.toString();
      output.push(text);
      // Keep a short tail so a marker split across two chunks is still seen, without rescanning all output.
      const window = tail + text;
      tail = window.slice(-200);
      if (window.includes('sc-spawner listening on')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`service exited (code ${code}, signal ${signal}) before listening:\n${output.join('')}`));
    });
  });
  const stop = async (timeoutMs = 15_000) => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const result = await exited;
    clearTimeout(timer);
    return result;
  };
  try {
    await listening;
  } catch (error) {
    await stop(2000);
    throw error;
  }
  return { child, url: `http://127.0.0.1:${port}`, port, output, exited, stop };
}

import { BadGatewayException, ConflictException, ForbiddenException, GatewayTimeoutException, HttpException, Logger } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { parseArgv, SC_EXIT_CODES } from '../../libs/sc-protocol/src';
import { Clock } from '../common/clock';
import { RetryableHttpException } from '../common/http-error';
import { AppConfig, parseAppConfig } from '../config/app-config';
import { PortAllocator } from '../ports/port-allocator.service';
import { PortProbe } from '../ports/port-probe';
import { LivelinessEndpoint } from '../supervisor/liveliness-endpoint';
import { LaunchCommand, LaunchedProcess, LaunchHandlers, ProcessLauncher } from '../supervisor/process-launcher';
import { SecretRedactor } from '../supervisor/secret-redactor';
import { SpawnEvents } from '../supervisor/spawn-events';
import { SupervisorService } from '../supervisor/supervisor.service';
import { RETRY_AFTER_AT_CAPACITY_S, RETRY_AFTER_SHUTTING_DOWN_S, SpawnService } from './spawn.service';

// ---------------------------------------------------------------------------------------------------------------
// Fakes
// ---------------------------------------------------------------------------------------------------------------

class FakeClock extends Clock {
  t = Date.UTC(2026, 0, 1);
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

class FakePortProbe extends PortProbe {
  readonly busy = new Set<number>();
  readonly probed: number[] = [];
  isFree(port: number): Promise<boolean> {
    this.probed.push(port);
    return Promise.resolve(!this.busy.has(port));
  }
}

class FakeProcess implements LaunchedProcess {
  readonly signals: NodeJS.Signals[] = [];
  exited = false;
  readonly id: string;
  readonly port: number;
  constructor(
    readonly pid: number,
    readonly command: LaunchCommand,
    private readonly handlers: LaunchHandlers,
  ) {
    const options = parseArgv(command.args);
    this.id = options.id!;
    this.port = options.scPort!;
  }
  signalGroup(signal: NodeJS.Signals): boolean {
    this.signals.push(signal);
    if (this.exited) return false;
    if (signal === 'SIGTERM') setImmediate(() => !this.exited && this.exit(null, 'SIGTERM'));
    return true;
  }
  line(stream: 'stdout' | 'stderr', text: string): void {
    this.handlers.onLine(stream, text);
  }
  exit(code: number | null, signal: NodeJS.Signals | null = null): void {
    this.exited = true;
    this.handlers.onExit({ code, signal });
  }
}

type Behaviour = (process: FakeProcess) => void;

/** Each launch runs the next scripted behaviour (after the caller has started waiting), or nothing once the script is used up. */
class FakeLauncher extends ProcessLauncher {
  readonly launched: FakeProcess[] = [];
  readonly script: Behaviour[] = [];
  private nextPid = 500;
  launch(command: LaunchCommand, handlers: LaunchHandlers): LaunchedProcess {
    const process = new FakeProcess(this.nextPid++, command, handlers);
    this.launched.push(process);
    const behaviour = this.script.shift();
    if (behaviour) setImmediate(() => behaviour(process));
    return process;
  }
}

const PORT_BASE = 41000;

async function setup(env: Record<string, string> = {}) {
  const config: AppConfig = parseAppConfig({
    SC_MAX_SPAWNS: '2',
    SC_PORT_BASE: String(PORT_BASE),
    SC_PORT_COUNT: '4',
    SPAWN_READY_TIMEOUT_S: '10',
    KILL_GRACE_S: '0.05',
    ...env,
  });
  const clock = new FakeClock();
  const probe = new FakePortProbe();
  const launcher = new FakeLauncher();
  const moduleRef = await Test.createTestingModule({
    providers: [
      SpawnService,
      SupervisorService,
      SpawnEvents,
      SecretRedactor,
      PortAllocator,
      { provide: AppConfig, useValue: config },
      { provide: Clock, useValue: clock },
      { provide: PortProbe, useValue: probe },
      { provide: ProcessLauncher, useValue: launcher },
      { provide: LivelinessEndpoint, useValue: { baseUrl: () => 'http://127.0.0.1:11182/liveliness' } },
    ],
  }).compile();
  Logger.overrideLogger(false); // compile() installs Nest's TestingLogger, which prints errors
  const supervisor = moduleRef.get(SupervisorService);
  const service = moduleRef.get(SpawnService);
  const ports = moduleRef.get(PortAllocator);
  const ready: Behaviour = (p) => supervisor.report(p.id, 'ready');
  const exitWith =
    (code: number, ...stderr: string[]): Behaviour =>
    (p) => {
      for (const line of stderr) p.line('stderr', line);
      p.exit(code);
    };
  /** Another program grabs the port between our probe and the server's bind: the server exits 3. */
  const lostPortRace: Behaviour = (p) => {
    probe.busy.add(p.port);
    p.line('stderr', `failed to listen on port ${p.port}: address in use`);
    p.exit(SC_EXIT_CODES.INTERNAL_ERROR);
  };
  return { config, clock, probe, launcher, supervisor, service, ports, ready, exitWith, lostPortRace };
}

async function rejectionOf(promise: Promise<unknown>): Promise<HttpException> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(HttpException);
    return error as HttpException;
  }
  throw new Error('expected a rejection');
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

beforeAll(() => Logger.overrideLogger(false));

// ---------------------------------------------------------------------------------------------------------------

describe('SpawnService.spawnReady', () => {
  it('resolves with the ready record', async () => {
    const { service, launcher, ready } = await setup();
    launcher.script.push(ready);
    const record = await service.spawnReady({ rendererType: 'csr', model: 'microengine' });
    expect(record.state).toBe('ready');
    expect(record.spec).toMatchObject({ rendererType: 'csr', model: 'microengine', wsPort: PORT_BASE });
    expect(launcher.launched).toHaveLength(1);
  });

  describe('renderer disabled', () => {
    it.each([
      ['csr', { CSR_ENABLED: 'false' }, 'CSR rendering is disabled on this server (CSR_ENABLED=false)'],
      ['ssr', { SSR_ENABLED: 'false' }, 'SSR rendering is disabled on this server (SSR_ENABLED=false)'],
    ] as const)('%s: 403 naming the variable, nothing launched', async (rendererType, env, message) => {
      const { service, launcher } = await setup(env);
      const error = await rejectionOf(service.spawnReady({ rendererType }));
      expect(error).toBeInstanceOf(ForbiddenException);
      expect(error.getStatus()).toBe(403);
      expect(error.message).toBe(message);
      expect(launcher.launched).toHaveLength(0);
    });

    it('the other renderer still works', async () => {
      const { service, launcher, ready } = await setup({ CSR_ENABLED: 'false' });
      launcher.script.push(ready);
      await expect(service.spawnReady({ rendererType: 'ssr' })).resolves.toMatchObject({ state: 'ready' });
      expect(() => service.assertRendererEnabled('ssr')).not.toThrow();
      expect(() => service.assertRendererEnabled('csr')).toThrow(ForbiddenException);
    });
  });

  describe('no capacity: 503 with Retry-After', () => {
    it('all slots in use', async () => {
      const { service, supervisor } = await setup({ SC_MAX_SPAWNS: '1' });
      await supervisor.launch({ rendererType: 'csr' });
      const error = await rejectionOf(service.spawnReady({ rendererType: 'csr' }));
      expect(error).toBeInstanceOf(RetryableHttpException);
      expect(error.getStatus()).toBe(503);
      expect((error as RetryableHttpException).retryAfterS).toBe(RETRY_AFTER_AT_CAPACITY_S);
      expect(RETRY_AFTER_AT_CAPACITY_S).toBe(5);
      expect(error.message).toBe('all 1 spawn slots are in use');
    });

    it('no free port', async () => {
      const { service, probe } = await setup();
      for (let p = PORT_BASE; p < PORT_BASE + 4; p++) probe.busy.add(p);
      const error = await rejectionOf(service.spawnReady({ rendererType: 'csr' }));
      expect(error).toBeInstanceOf(RetryableHttpException);
      expect(error.getStatus()).toBe(503);
      expect((error as RetryableHttpException).retryAfterS).toBe(RETRY_AFTER_AT_CAPACITY_S);
      expect(error.message).toBe(`no free WebSocket port in ${PORT_BASE}-${PORT_BASE + 3}`);
    });
  });

  describe('shutting down: 503 with a longer Retry-After', () => {
    it('a request after shutdown began', async () => {
      const { service, supervisor, launcher } = await setup();
      await supervisor.shutdown();
      const error = await rejectionOf(service.spawnReady({ rendererType: 'csr' }));
      expect(error).toBeInstanceOf(RetryableHttpException);
      expect(error.getStatus()).toBe(503);
      expect((error as RetryableHttpException).retryAfterS).toBe(RETRY_AFTER_SHUTTING_DOWN_S);
      expect(RETRY_AFTER_SHUTTING_DOWN_S).toBe(30);
      expect(error.message).toBe('the service is shutting down; try another server');
      expect(launcher.launched).toHaveLength(0);
    });

    it('a request still waiting for ready when shutdown begins', async () => {
      const { service, supervisor, launcher } = await setup();
      const pending = rejectionOf(service.spawnReady({ rendererType: 'csr' }));
      await flush();
      expect(launcher.launched).toHaveLength(1);
      await supervisor.shutdown();
      const error = await pending;
      expect(error).toBeInstanceOf(RetryableHttpException);
      expect(error.getStatus()).toBe(503);
      expect((error as RetryableHttpException).retryAfterS).toBe(RETRY_AFTER_SHUTTING_DOWN_S);
    });
  });

  it('the server exits before ready: 502 with the exit code, its meaning and stderr', async () => {
    const { service, launcher, exitWith } = await setup();
    launcher.script.push(exitWith(SC_EXIT_CODES.INVALID_LICENSE, 'license rejected'));
    const error = await rejectionOf(service.spawnReady({ rendererType: 'csr' }));
    expect(error).toBeInstanceOf(BadGatewayException);
    expect(error.getStatus()).toBe(502);
    expect(error.message).toBe('the server exited before it was ready: exit code 6 (invalid license); last stderr: license rejected');
  });

  it('the server never reports ready: 504 once SPAWN_READY_TIMEOUT_S passes, and it is stopped', async () => {
    const { service, supervisor, clock, launcher } = await setup({ SPAWN_READY_TIMEOUT_S: '10' });
    const pending = rejectionOf(service.spawnReady({ rendererType: 'csr' }));
    await flush();
    clock.advance(10_000);
    supervisor.sweep();
    const error = await pending;
    expect(error).toBeInstanceOf(GatewayTimeoutException);
    expect(error.getStatus()).toBe(504);
    expect(error.message).toBe('the server did not report ready within 10 s; it was stopped');
    expect(launcher.launched[0].signals).toEqual(['SIGTERM']);
  });

  it('the spawn is stopped (DELETE) before ready: 409', async () => {
    const { service, supervisor, launcher } = await setup();
    const pending = rejectionOf(service.spawnReady({ rendererType: 'csr' }));
    await flush();
    supervisor.stop(launcher.launched[0].id, 'stopped by DELETE /spawns/:id');
    const error = await pending;
    expect(error).toBeInstanceOf(ConflictException);
    expect(error.getStatus()).toBe(409);
    expect(error.message).toBe('the spawn was stopped before it was ready: stopped by DELETE /spawns/:id');
  });

  it('the client goes away: its spawn is stopped', async () => {
    const { service, launcher } = await setup();
    const controller = new AbortController();
    const pending = service.spawnReady({ rendererType: 'csr' }, controller.signal).catch((e: unknown) => e);
    await flush();
    controller.abort();
    expect(await pending).toBeInstanceOf(HttpException);
    expect(launcher.launched[0].signals).toEqual(['SIGTERM']);
  });

  describe('the one invisible retry after a lost port race', () => {
    it('first attempt exits 3 and its port is now busy: the second attempt, on another port, succeeds', async () => {
      const { service, launcher, ports, probe, lostPortRace, ready } = await setup();
      launcher.script.push(lostPortRace, ready);
      const record = await service.spawnReady({ rendererType: 'ssr', model: 'bnc.scz', sessionToken: 'tok' });

      expect(record.state).toBe('ready');
      expect(launcher.launched).toHaveLength(2);
      const [first, second] = launcher.launched;
      expect(first.port).toBe(PORT_BASE);
      expect(second.port).not.toBe(PORT_BASE);
      expect(record.spec.wsPort).toBe(second.port);
      expect(record.id).toBe(second.id);
      expect(second.id).not.toBe(first.id);
      // The same request was repeated.
      expect(parseArgv(second.command.args)).toMatchObject({ ssr: true, modelFile: 'bnc.scz', sessionToken: 'tok' });
      // The lost port is kept out of rotation.
      expect(ports.counts()).toMatchObject({ leased: 1, busy: 1 });
      expect(probe.probed.filter((p) => p === PORT_BASE)).toHaveLength(2); // the lease, then the confirmation
    });

    it('exit 3 but the port is free again: no retry, 502', async () => {
      const { service, launcher, exitWith } = await setup();
      launcher.script.push(exitWith(SC_EXIT_CODES.INTERNAL_ERROR, 'boom'));
      const error = await rejectionOf(service.spawnReady({ rendererType: 'csr' }));
      expect(error).toBeInstanceOf(BadGatewayException);
      expect(error.message).toContain('exit code 3 (internal error)');
      expect(launcher.launched).toHaveLength(1);
    });

    it.each([0, 1, 2, 4, 5, 6, 7])('exit %i with the port busy: no retry, 502', async (code) => {
      const { service, launcher, probe } = await setup();
      launcher.script.push((p) => {
        probe.busy.add(p.port);
        p.exit(code);
      });
      const error = await rejectionOf(service.spawnReady({ rendererType: 'csr' }));
      expect(error).toBeInstanceOf(BadGatewayException);
      expect(error.message).toContain(`exit code ${code} (`);
      expect(launcher.launched).toHaveLength(1);
    });

    it('killed by a signal before ready: no retry', async () => {
      const { service, launcher } = await setup();
      launcher.script.push((p) => p.exit(null, 'SIGKILL'));
      const error = await rejectionOf(service.spawnReady({ rendererType: 'csr' }));
      expect(error).toBeInstanceOf(BadGatewayException);
      expect(error.message).toContain('killed by signal SIGKILL');
      expect(launcher.launched).toHaveLength(1);
    });

    it('only once: a second lost race is reported as 502', async () => {
      const { service, launcher, lostPortRace } = await setup();
      launcher.script.push(lostPortRace, lostPortRace, lostPortRace);
      const error = await rejectionOf(service.spawnReady({ rendererType: 'csr' }));
      expect(error).toBeInstanceOf(BadGatewayException);
      expect(error.message).toContain('exit code 3 (internal error)');
      expect(launcher.launched).toHaveLength(2);
    });

    it('the retry is subject to capacity like any launch', async () => {
      const { service, launcher, lostPortRace } = await setup({ SC_PORT_COUNT: '1' });
      launcher.script.push(lostPortRace);
      const error = await rejectionOf(service.spawnReady({ rendererType: 'csr' }));
      expect(error).toBeInstanceOf(RetryableHttpException);
      expect(error.getStatus()).toBe(503);
      expect(launcher.launched).toHaveLength(1);
    });
  });
});

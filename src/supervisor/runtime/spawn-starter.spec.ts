import { Logger } from '@nestjs/common';
import { parseArgv, SC_EXIT_CODES } from '@app/sc-protocol';
import { exitOn, FakeBehaviour, flush, supervisorTestingModule } from '../../../test/fakes';
import { parseAppConfig } from '../../config';
import { RETRY_AFTER_AT_CAPACITY_S, RETRY_AFTER_SHUTTING_DOWN_S, toHttpErrorView } from '../../http/http-error';
import { PortAllocator } from '../../ports/port-allocator.service';
import {
  NoCapacityError,
  RendererDisabledError,
  SpawnNotReadyError,
  SupervisorError,
} from '../rules/supervisor.errors';
import { SupervisorService } from './supervisor.service';

const PORT_BASE = 41000;

async function setup(env: Record<string, string> = {}) {
  const config = parseAppConfig({
    SC_MAX_SPAWNS: '2',
    SC_PORT_BASE: String(PORT_BASE),
    SC_PORT_COUNT: '4',
    SPAWN_READY_TIMEOUT_S: '10',
    KILL_GRACE_S: '0.05',
    ...env,
  });
  const { moduleRef, clock, probe, launcher } = await supervisorTestingModule(config);
  launcher.onSignal = exitOn('SIGTERM'); // the servers exit (asynchronously) on SIGTERM
  const supervisor = moduleRef.get(SupervisorService);
  const ports = moduleRef.get(PortAllocator);
  const ready: FakeBehaviour = (p) => supervisor.report(p.id, 'ready');
  const exitWith =
    (code: number, ...stderr: string[]): FakeBehaviour =>
    (p) => {
      for (const line of stderr) p.line('stderr', line);
      p.exit(code);
    };
  /** Another program grabs the port between our probe and the server's bind: the server exits 3. */
  const lostPortRace: FakeBehaviour = (p) => {
    probe.busy.add(p.port);
    p.line('stderr', `failed to listen on port ${p.port}: address in use`);
    p.exit(SC_EXIT_CODES.INTERNAL_ERROR);
  };
  return { config, clock, probe, launcher, supervisor, service: supervisor, ports, ready, exitWith, lostPortRace };
}

/** A rejection: the supervisor's typed error, and what the HTTP boundary makes of it. */
interface Rejection {
  error: SupervisorError;
  status: number;
  message: string;
  retryAfterS?: number;
}

async function rejectionOf(promise: Promise<unknown>): Promise<Rejection> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(SupervisorError);
    const { status, message, retryAfterS } = toHttpErrorView(error);
    return { error: error as SupervisorError, status, message, retryAfterS };
  }
  throw new Error('expected a rejection');
}

beforeAll(() => Logger.overrideLogger(false));

// ---------------------------------------------------------------------------------------------------------------

describe('SupervisorService.spawn (SpawnStarter)', () => {
  it('resolves with the ready record', async () => {
    const { service, launcher, ready } = await setup();
    launcher.script.push(ready);
    const record = await service.spawn({ rendererType: 'csr', model: 'microengine' });
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
      const error = await rejectionOf(service.spawn({ rendererType }));
      expect(error.error).toBeInstanceOf(RendererDisabledError);
      expect(error.status).toBe(403);
      expect(error.message).toBe(message);
      expect(launcher.launched).toHaveLength(0);
    });

    it('the other renderer still works', async () => {
      const { service, launcher, ready } = await setup({ CSR_ENABLED: 'false' });
      launcher.script.push(ready);
      await expect(service.spawn({ rendererType: 'ssr' })).resolves.toMatchObject({ state: 'ready' });
      await expect(service.spawn({ rendererType: 'csr' })).rejects.toBeInstanceOf(RendererDisabledError);
    });
  });

  describe('no capacity: 503 with Retry-After', () => {
    it('all slots in use', async () => {
      const { service, supervisor } = await setup({ SC_MAX_SPAWNS: '1' });
      await supervisor.launch({ rendererType: 'csr' });
      const error = await rejectionOf(service.spawn({ rendererType: 'csr' }));
      expect(error.error).toBeInstanceOf(NoCapacityError);
      expect(error.status).toBe(503);
      expect(error.retryAfterS).toBe(RETRY_AFTER_AT_CAPACITY_S);
      expect(RETRY_AFTER_AT_CAPACITY_S).toBe(5);
      expect(error.message).toBe('all 1 spawn slots are in use');
    });

    it('no free port', async () => {
      const { service, probe } = await setup();
      for (let p = PORT_BASE; p < PORT_BASE + 4; p++) probe.busy.add(p);
      const error = await rejectionOf(service.spawn({ rendererType: 'csr' }));
      expect(error.error).toBeInstanceOf(NoCapacityError);
      expect(error.status).toBe(503);
      expect(error.retryAfterS).toBe(RETRY_AFTER_AT_CAPACITY_S);
      expect(error.message).toBe(
        `no free WebSocket port in ${PORT_BASE}-${PORT_BASE + 3}: 4 held by another program ` +
          `(ss -ltnp 'sport >= :${PORT_BASE} and sport <= :${PORT_BASE + 3}' names it), 0 leased by this node's servers`,
      );
    });
  });

  describe('shutting down: 503 with a longer Retry-After', () => {
    it('a request after shutdown began', async () => {
      const { service, supervisor, launcher } = await setup();
      await supervisor.shutdown();
      const error = await rejectionOf(service.spawn({ rendererType: 'csr' }));
      expect(error.error).toBeInstanceOf(NoCapacityError);
      expect(error.status).toBe(503);
      expect(error.retryAfterS).toBe(RETRY_AFTER_SHUTTING_DOWN_S);
      expect(RETRY_AFTER_SHUTTING_DOWN_S).toBe(30);
      expect(error.message).toBe('the service is shutting down; try another server');
      expect(launcher.launched).toHaveLength(0);
    });

    it('a request still waiting for ready when shutdown begins', async () => {
      const { service, supervisor, launcher } = await setup();
      const pending = rejectionOf(service.spawn({ rendererType: 'csr' }));
      await flush();
      expect(launcher.launched).toHaveLength(1);
      await supervisor.shutdown();
      const error = await pending;
      expect(error.error).toBeInstanceOf(NoCapacityError);
      expect(error.status).toBe(503);
      expect(error.retryAfterS).toBe(RETRY_AFTER_SHUTTING_DOWN_S);
    });
  });

  it('the server exits before ready: 502 with the exit code and its meaning, never its stderr', async () => {
    const { service, launcher, exitWith } = await setup();
    launcher.script.push(exitWith(SC_EXIT_CODES.INVALID_LICENSE, 'license rejected'));
    const error = await rejectionOf(service.spawn({ rendererType: 'csr' }));
    expect(error.error).toBeInstanceOf(SpawnNotReadyError);
    expect(error.status).toBe(502);
    expect(error.message).toMatch(
      /^the server exited before it was ready: exit code 6 \(invalid license\); its output: GET \/spawns\/[\w-]+\/logs$/,
    );
    expect(error.message).not.toMatch(/license rejected/);
  });

  it('the server never reports ready: 504 once SPAWN_READY_TIMEOUT_S passes, and it is stopped', async () => {
    const { service, supervisor, clock, launcher } = await setup({ SPAWN_READY_TIMEOUT_S: '10' });
    const pending = rejectionOf(service.spawn({ rendererType: 'csr' }));
    await flush();
    clock.advance(10_000);
    supervisor.sweep();
    const error = await pending;
    expect(error.error).toBeInstanceOf(SpawnNotReadyError);
    expect(error.status).toBe(504);
    expect(error.message).toBe('the server did not report ready within 10 s; it was stopped');
    expect(launcher.launched[0].signals).toEqual(['SIGTERM']);
  });

  it('the spawn is stopped (DELETE) before ready: 409', async () => {
    const { service, supervisor, launcher } = await setup();
    const pending = rejectionOf(service.spawn({ rendererType: 'csr' }));
    await flush();
    supervisor.stop(launcher.launched[0].id, 'stopped by DELETE /spawns/:id');
    const error = await pending;
    expect(error.error).toBeInstanceOf(SpawnNotReadyError);
    expect(error.status).toBe(409);
    expect(error.message).toBe('the spawn was stopped before it was ready: stopped by DELETE /spawns/:id');
  });

  it('the client goes away: its spawn is stopped', async () => {
    const { service, launcher } = await setup();
    const controller = new AbortController();
    const pending = service.spawn({ rendererType: 'csr' }, controller.signal).catch((e: unknown) => e);
    await flush();
    controller.abort();
    expect(await pending).toBeInstanceOf(SupervisorError);
    expect(launcher.launched[0].signals).toEqual(['SIGTERM']);
  });

  describe('the one invisible retry after a lost port race', () => {
    it('first attempt exits 3 and its port is now busy: the second attempt, on another port, succeeds', async () => {
      const { service, launcher, ports, probe, lostPortRace, ready } = await setup();
      launcher.script.push(lostPortRace, ready);
      const record = await service.spawn({ rendererType: 'ssr', model: 'bnc.scz', sessionToken: 'tok' });

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
      const error = await rejectionOf(service.spawn({ rendererType: 'csr' }));
      expect(error.error).toBeInstanceOf(SpawnNotReadyError);
      expect(error.status).toBe(502);
      expect(error.message).toContain('exit code 3 (internal error)');
      expect(launcher.launched).toHaveLength(1);
    });

    it.each([0, 1, 2, 4, 5, 6, 7])('exit %i with the port busy: no retry, 502', async (code) => {
      const { service, launcher, probe } = await setup();
      launcher.script.push((p) => {
        probe.busy.add(p.port);
        p.exit(code);
      });
      const error = await rejectionOf(service.spawn({ rendererType: 'csr' }));
      expect(error.error).toBeInstanceOf(SpawnNotReadyError);
      expect(error.status).toBe(502);
      expect(error.message).toContain(`exit code ${code} (`);
      expect(launcher.launched).toHaveLength(1);
    });

    it('killed by a signal before ready: no retry', async () => {
      const { service, launcher } = await setup();
      launcher.script.push((p) => p.exit(null, 'SIGKILL'));
      const error = await rejectionOf(service.spawn({ rendererType: 'csr' }));
      expect(error.error).toBeInstanceOf(SpawnNotReadyError);
      expect(error.status).toBe(502);
      expect(error.message).toContain('killed by signal SIGKILL');
      expect(launcher.launched).toHaveLength(1);
    });

    it('only once: a second lost race is reported as 502', async () => {
      const { service, launcher, lostPortRace } = await setup();
      launcher.script.push(lostPortRace, lostPortRace, lostPortRace);
      const error = await rejectionOf(service.spawn({ rendererType: 'csr' }));
      expect(error.error).toBeInstanceOf(SpawnNotReadyError);
      expect(error.status).toBe(502);
      expect(error.message).toContain('exit code 3 (internal error)');
      expect(launcher.launched).toHaveLength(2);
    });

    it('the retry is subject to capacity like any launch', async () => {
      const { service, launcher, lostPortRace } = await setup({ SC_PORT_COUNT: '1' });
      launcher.script.push(lostPortRace);
      const error = await rejectionOf(service.spawn({ rendererType: 'csr' }));
      expect(error.error).toBeInstanceOf(NoCapacityError);
      expect(error.status).toBe(503);
      expect(launcher.launched).toHaveLength(1);
    });
  });
});

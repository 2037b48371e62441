import { Logger } from '@nestjs/common';
import { exitOn, flush } from '../../../test/fakes';
import { setup, outcome } from '../../../test/fakes/supervisor-harness';
import { NoCapacityError, SpawnNotReadyError } from '../rules/supervisor.errors';

beforeAll(() => Logger.overrideLogger(false));
afterEach(() => jest.useRealTimers());

describe('SupervisorService: shutdown', () => {
  describe('shutdown', () => {
    it('resolves at once when nothing runs, and refuses new spawns afterwards', async () => {
      const { supervisor } = await setup();
      await supervisor.shutdown();
      expect(supervisor.isShuttingDown).toBe(true);
      const { error } = await outcome(supervisor.launch({ rendererType: 'csr' }));
      expect(error).toBeInstanceOf(NoCapacityError);
      expect((error as NoCapacityError).reason).toBe('shutting_down');
    });

    it('SIGTERMs every spawn, SIGKILLs the survivors after the grace, and resolves when all have exited (real timers)', async () => {
      const { supervisor, launcher, launch, launchReady, ports } = await setup({ KILL_GRACE_S: '0.05' });
      const polite = await launchReady();
      const stubborn = await launchReady();
      const starting = await launch();
      const waiting = outcome(supervisor.waitUntilReady(starting.record.id));
      launcher.onSignal = (process, signal) => {
        if (process === stubborn.process) exitOn('SIGKILL')(process, signal);
        else exitOn('SIGTERM')(process, signal);
      };

      const started = Date.now();
      await supervisor.shutdown();
      expect(Date.now() - started).toBeGreaterThanOrEqual(40);

      expect(polite.process.signals).toEqual(['SIGTERM']);
      expect(starting.process.signals).toEqual(['SIGTERM']);
      expect(stubborn.process.signals).toEqual(['SIGTERM', 'SIGKILL']);
      for (const { record } of [polite, stubborn, starting]) {
        expect(record.state).toBe('exited');
        expect(record.endReason).toBe('the service is shutting down');
      }
      expect(stubborn.record.sigkillSentAt).toBeDefined();
      expect(supervisor.capacity().activeSpawns).toBe(0);
      expect(ports.counts().leased).toBe(0);
      const { error } = await waiting;
      expect(error).toBeInstanceOf(SpawnNotReadyError);
      expect((error as Error).message).toBe('the service is shutting down');
    });

    it('resolves as soon as every spawn exited on SIGTERM, without SIGKILL', async () => {
      const { supervisor, launcher, launchReady } = await setup({ KILL_GRACE_S: '5' });
      const a = await launchReady();
      const b = await launchReady();
      launcher.onSignal = exitOn('SIGTERM');
      const started = Date.now();
      await supervisor.shutdown();
      expect(Date.now() - started).toBeLessThan(1000);
      expect(a.process.signals).toEqual(['SIGTERM']);
      expect(b.process.signals).toEqual(['SIGTERM']);
    });

    it('gives up (resolves) if a spawn survives even SIGKILL, leaving it live (fake timers)', async () => {
      const { supervisor, launchReady } = await setup({ KILL_GRACE_S: '1' });
      jest.useFakeTimers();
      const { record, process } = await launchReady();
      let done = false;
      const shutdown = supervisor.shutdown().then(() => (done = true));
      await jest.advanceTimersByTimeAsync(999);
      expect(process.signals).toEqual(['SIGTERM']);
      await jest.advanceTimersByTimeAsync(1);
      expect(process.signals).toEqual(['SIGTERM', 'SIGKILL']);
      expect(done).toBe(false);
      await jest.advanceTimersByTimeAsync(1999);
      expect(done).toBe(false);
      await jest.advanceTimersByTimeAsync(1);
      await shutdown;
      expect(done).toBe(true);
      expect(record.state).toBe('terminating');
      expect(supervisor.capacity().activeSpawns).toBe(1);
    });

    it('a launch still leasing its port when shutdown begins is refused and its port given back', async () => {
      const { supervisor, probe, ports } = await setup();
      probe.delay = () => 20;
      const launching = outcome(supervisor.launch({ rendererType: 'csr' }));
      await flush();
      await supervisor.shutdown();
      const { error } = await launching;
      expect(error).toBeInstanceOf(NoCapacityError);
      expect((error as NoCapacityError).reason).toBe('shutting_down');
      expect(ports.counts().leased).toBe(0);
      expect(supervisor.capacity().activeSpawns).toBe(0);
    });

    it('beforeApplicationShutdown() runs the shutdown', async () => {
      const { supervisor, launcher, launchReady } = await setup({ KILL_GRACE_S: '0.05' });
      const { record } = await launchReady();
      launcher.onSignal = exitOn('SIGTERM');
      await supervisor.beforeApplicationShutdown();
      expect(record.state).toBe('exited');
      expect(supervisor.isShuttingDown).toBe(true);
    });
  });
});

import { Logger } from '@nestjs/common';
import { isLeased } from '../../../test/fakes';
import { setup, outcome } from '../../../test/fakes/supervisor-harness';
import { SpawnNotReadyError } from '../rules/supervisor.errors';

beforeAll(() => Logger.overrideLogger(false));
afterEach(() => jest.useRealTimers());

describe('SupervisorService: readiness', () => {
  describe('readiness', () => {
    it("report('ready') makes the spawn ready and resolves waitUntilReady", async () => {
      const { supervisor, clock, launch, events } = await setup();
      const { record } = await launch();
      const ready = supervisor.waitUntilReady(record.id);
      clock.advance(1234);
      expect(() => supervisor.report(record.id, 'ready')).not.toThrow();
      await expect(ready).resolves.toEqual(record);
      expect(record.state).toBe('ready');
      expect(record.readyAt).toBe(clock.now());
      expect(record.lastReportAt).toBe(clock.now());
      expect(events[1]).toEqual({
        id: record.id,
        state: 'ready',
        previousState: 'starting',
        at: new Date(clock.now()).toISOString(),
        detail: 'ready after 1234 ms',
      });
    });

    it('waitUntilReady resolves at once for a spawn already ready, and every waiter is answered', async () => {
      const { supervisor, launch } = await setup();
      const { record } = await launch();
      const first = supervisor.waitUntilReady(record.id);
      const second = supervisor.waitUntilReady(record.id);
      supervisor.report(record.id, 'ready');
      await expect(Promise.all([first, second])).resolves.toEqual([record, record]);
      await expect(supervisor.waitUntilReady(record.id)).resolves.toEqual(record);
    });

    it('waitUntilReady rejects for an unknown id', async () => {
      const { supervisor } = await setup();
      await expect(supervisor.waitUntilReady('nope')).rejects.toThrow('no spawn with id nope');
    });

    it('exit before ready: failed, and waitUntilReady rejects with the exit code and its meaning, not the server output', async () => {
      const { supervisor, launch, statesOf, ports } = await setup();
      const { record, process } = await launch();
      const waiting = outcome(supervisor.waitUntilReady(record.id));
      process.line('stdout', 'starting up');
      for (let i = 1; i <= 7; i++) process.line('stderr', `problem ${i}`);
      process.line('stdout', 'bye');
      process.exit(6);

      const { error } = await waiting;
      expect(error).toBeInstanceOf(SpawnNotReadyError);
      const message = (error as SpawnNotReadyError).message;
      expect(message).toBe(
        `the server exited before it was ready: exit code 6 (invalid license); its output: GET /spawns/${record.id}/logs`,
      );
      expect(message).not.toMatch(/problem/);
      expect((error as SpawnNotReadyError).spawn).toEqual(supervisor.get(record.id));
      expect(record.state).toBe('failed');
      expect(record.exitCode).toBe(6);
      expect(record.signal).toBeNull();
      expect(record.endReason).toBe(message);
      expect(statesOf(record.id)).toEqual(['starting', 'failed']);
      expect(isLeased(ports, record.spec.wsPort)).toBe(false);
      expect(supervisor.logs(record.id).map((l) => l.line)).toEqual([
        'starting up',
        ...[1, 2, 3, 4, 5, 6, 7].map((i) => `problem ${i}`),
        'bye',
      ]);
      // Asked again later, the answer is the same.
      await expect(supervisor.waitUntilReady(record.id)).rejects.toThrow(message);
    });

    it('exit before ready without stderr names only the exit', async () => {
      const { supervisor, launch } = await setup();
      const { record, process } = await launch();
      const waiting = outcome(supervisor.waitUntilReady(record.id));
      process.exit(3);
      expect(((await waiting).error as Error).message).toBe(
        `the server exited before it was ready: exit code 3 (internal error); its output: GET /spawns/${record.id}/logs`,
      );
    });

    it('an abort signal stops a starting spawn and rejects its waiter', async () => {
      const { supervisor, launch, statesOf, ports } = await setup();
      const { record, process } = await launch();
      const controller = new AbortController();
      const waiting = outcome(supervisor.waitUntilReady(record.id, controller.signal));
      controller.abort();
      const { error } = await waiting;
      expect(error).toBeInstanceOf(SpawnNotReadyError);
      expect((error as Error).message).toBe('the client went away before the server was ready');
      expect(record.state).toBe('terminating');
      expect(process.signals).toEqual(['SIGTERM']);
      expect(statesOf(record.id)).toEqual(['starting', 'terminating']);
      expect(isLeased(ports, record.spec.wsPort)).toBe(true); // until it exits
      process.exit(null, 'SIGTERM');
      expect(record.state).toBe('exited');
      expect(isLeased(ports, record.spec.wsPort)).toBe(false);
    });

    it('an already aborted signal stops the spawn at once', async () => {
      const { supervisor, launch } = await setup();
      const { record, process } = await launch();
      const controller = new AbortController();
      controller.abort();
      await expect(supervisor.waitUntilReady(record.id, controller.signal)).rejects.toBeInstanceOf(SpawnNotReadyError);
      expect(process.signals).toEqual(['SIGTERM']);
    });

    it('an abort after the spawn is ready changes nothing', async () => {
      const { supervisor, launch } = await setup();
      const { record, process } = await launch();
      const controller = new AbortController();
      const ready = supervisor.waitUntilReady(record.id, controller.signal);
      supervisor.report(record.id, 'ready');
      await expect(ready).resolves.toEqual(record);
      controller.abort();
      expect(record.state).toBe('ready');
      expect(process.signals).toEqual([]);
    });
  });
});

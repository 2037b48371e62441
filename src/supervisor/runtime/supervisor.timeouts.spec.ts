import { Logger } from '@nestjs/common';
import { isLeased } from '../../../test/fakes';
import { setup, outcome } from '../../../test/fakes/supervisor-harness';
import { SpawnNotReadyError, UnknownSpawnError } from '../rules/supervisor.errors';

beforeAll(() => Logger.overrideLogger(false));
afterEach(() => jest.useRealTimers());

describe('SupervisorService: the sweep and stop', () => {
  describe('sweep', () => {
    it('leaves alone a spawn whose process is gone while its last output is read: an exit just before the timeout stays a failure', async () => {
      const { supervisor, clock, launch } = await setup({ SPAWN_READY_TIMEOUT_S: '10' });
      const { record, process } = await launch();
      const waiting = outcome(supervisor.waitUntilReady(record.id));
      clock.advance(9990);
      process.gone();
      clock.advance(500);
      supervisor.sweep();
      expect(record.state).toBe('starting');
      expect(process.signals).toEqual([]);
      process.line('stderr', 'license rejected');
      process.exit(6);
      expect(record.state).toBe('failed');
      const { error } = await waiting;
      expect(error).toMatchObject({ reason: 'failed' });
      expect((error as Error).message).toContain('exit code 6 (invalid license)');
      // Its last output was read before the exit was handled: in the logs (never in the message an anonymous caller sees).
      expect(supervisor.logs(record.id).map((l) => l.line)).toContain('license rejected');
    });

    it('no ready within SPAWN_READY_TIMEOUT_S: timed_out, terminating with SIGTERM to the group, SIGKILL after KILL_GRACE_S, again if it survives', async () => {
      const { supervisor, clock, launch, events, ports } = await setup({
        SPAWN_READY_TIMEOUT_S: '10',
        KILL_GRACE_S: '2',
      });
      const { record, process } = await launch();
      const waiting = outcome(supervisor.waitUntilReady(record.id));

      clock.advance(9999);
      supervisor.sweep();
      expect(record.state).toBe('starting');
      expect(process.signals).toEqual([]);

      clock.advance(1);
      supervisor.sweep();
      expect(record.state).toBe('terminating');
      expect(process.signals).toEqual(['SIGTERM']);
      expect(record.endReason).toBe('the server did not report ready within 10 s');
      expect(events.slice(1).map((e) => [e.previousState, e.state])).toEqual([
        ['starting', 'timed_out'],
        ['timed_out', 'terminating'],
      ]);
      const { error } = await waiting;
      expect(error).toBeInstanceOf(SpawnNotReadyError);
      expect((error as Error).message).toBe('the server did not report ready within 10 s');

      clock.advance(1999);
      supervisor.sweep();
      expect(process.signals).toEqual(['SIGTERM']);
      clock.advance(1);
      supervisor.sweep();
      expect(process.signals).toEqual(['SIGTERM', 'SIGKILL']);
      expect(record.sigkillSentAt).toBe(clock.now());

      clock.advance(1999);
      supervisor.sweep();
      expect(process.signals).toEqual(['SIGTERM', 'SIGKILL']);
      clock.advance(1);
      supervisor.sweep();
      expect(process.signals).toEqual(['SIGTERM', 'SIGKILL', 'SIGKILL']);
      expect(isLeased(ports, record.spec.wsPort)).toBe(true);

      process.exit(null, 'SIGKILL');
      expect(record.state).toBe('exited');
      expect(record.endReason).toBe('the server did not report ready within 10 s');
      expect(isLeased(ports, record.spec.wsPort)).toBe(false);
      expect(supervisor.capacity().activeSpawns).toBe(0);
      supervisor.sweep();
      expect(process.signals).toHaveLength(3);
    });

    it('sweep(now) uses the time it is given', async () => {
      const { supervisor, clock, launch } = await setup({ SPAWN_READY_TIMEOUT_S: '10' });
      const { record } = await launch();
      supervisor.sweep(clock.now() + 10_000);
      expect(record.state).toBe('terminating');
    });

    it('a report of ping while starting does not count as ready', async () => {
      const { supervisor, clock, launch } = await setup({ SPAWN_READY_TIMEOUT_S: '10' });
      const { record } = await launch();
      clock.advance(9000);
      expect(() => supervisor.report(record.id, 'ping')).not.toThrow();
      expect(record.state).toBe('starting');
      expect(record.lastReportAt).toBe(clock.now());
      clock.advance(1000);
      supervisor.sweep();
      expect(record.state).toBe('terminating');
    });

    it('no report within PING_TIMEOUT_S after ready: unresponsive, then terminating with SIGTERM', async () => {
      const { supervisor, clock, launchReady, statesOf } = await setup();
      const { record, process } = await launchReady();
      clock.advance(4999);
      supervisor.sweep();
      expect(record.state).toBe('ready');
      clock.advance(1);
      supervisor.sweep();
      expect(record.state).toBe('terminating');
      expect(record.endReason).toBe('no liveliness report for 5 s');
      expect(statesOf(record.id)).toEqual(['starting', 'ready', 'unresponsive', 'terminating']);
      expect(process.signals).toEqual(['SIGTERM']);
      process.exit(0);
      expect(record.state).toBe('exited');
      expect(record.endReason).toBe('no liveliness report for 5 s');
    });

    it('a ping just before the timeout keeps the spawn alive for another PING_TIMEOUT_S', async () => {
      const { supervisor, clock, launchReady } = await setup();
      const { record, process } = await launchReady();
      clock.advance(4900);
      expect(() => supervisor.report(record.id, 'ping')).not.toThrow();
      expect(record.lastReportAt).toBe(clock.now());
      clock.advance(100); // 5 s after ready
      supervisor.sweep();
      expect(record.state).toBe('ready');
      clock.advance(4899);
      supervisor.sweep();
      expect(record.state).toBe('ready');
      clock.advance(1); // 5 s after the ping
      supervisor.sweep();
      expect(record.state).toBe('terminating');
      expect(process.signals).toEqual(['SIGTERM']);
    });

    it('a connected spawn is held to the same ping timeout', async () => {
      const { supervisor, clock, launchReady, statesOf } = await setup();
      const { record } = await launchReady();
      supervisor.viewerAttached(record.id);
      expect(record.state).toBe('connected');
      expect(record.connectedAt).toBe(clock.now());
      clock.advance(3000);
      supervisor.report(record.id, 'ping');
      clock.advance(4999);
      supervisor.sweep();
      expect(record.state).toBe('connected');
      clock.advance(1);
      supervisor.sweep();
      expect(statesOf(record.id)).toEqual(['starting', 'ready', 'connected', 'unresponsive', 'terminating']);
    });

    it('any report refreshes lastReportAt, including ready and disconnect', async () => {
      const { supervisor, clock, launch } = await setup();
      const { record } = await launch();
      expect(record.lastReportAt).toBeUndefined();
      clock.advance(100);
      supervisor.report(record.id, 'ready');
      expect(record.lastReportAt).toBe(clock.now());
      clock.advance(100);
      supervisor.report(record.id, 'ready'); // a repeated ready changes nothing but the time
      expect(record.lastReportAt).toBe(clock.now());
      expect(record.readyAt).toBe(clock.now() - 100);
      clock.advance(100);
      supervisor.report(record.id, 'disconnect');
      expect(record.lastReportAt).toBe(clock.now());
      clock.advance(100);
      supervisor.report(record.id, 'ping');
      expect(record.lastReportAt).toBe(clock.now());
    });

    it('a disconnected spawn that lingers past KILL_GRACE_S is stopped', async () => {
      const { supervisor, clock, launchReady, statesOf } = await setup({ KILL_GRACE_S: '2' });
      const { record, process } = await launchReady();
      clock.advance(1000);
      supervisor.report(record.id, 'disconnect');
      expect(record.state).toBe('disconnected');
      clock.advance(1999);
      supervisor.sweep();
      expect(record.state).toBe('disconnected');
      expect(process.signals).toEqual([]);
      clock.advance(1);
      supervisor.sweep();
      expect(record.state).toBe('terminating');
      expect(process.signals).toEqual(['SIGTERM']);
      expect(record.endReason).toBe('still running 2 s after reporting disconnect');
      expect(statesOf(record.id)).toEqual(['starting', 'ready', 'disconnected', 'terminating']);
    });

    it('a disconnected spawn that exits in time ends as a finished session', async () => {
      const { supervisor, clock, launchReady, ports } = await setup();
      const { record, process } = await launchReady();
      supervisor.report(record.id, 'disconnect');
      clock.advance(500);
      process.exit(0);
      expect(record.state).toBe('exited');
      expect(record.endReason).toBe(
        'the server reported disconnect and exited (code 0); no viewer attached through the proxy',
      );
      expect(record.exitCode).toBe(0);
      expect(record.endedAt).toBe(clock.now());
      expect(process.signals).toEqual([]);
      expect(isLeased(ports, record.spec.wsPort)).toBe(false);
    });

    it('a ready spawn that exits on its own ends with the exit described', async () => {
      const { launchReady } = await setup();
      const { record, process } = await launchReady();
      process.exit(null, 'SIGSEGV');
      expect(record.state).toBe('exited');
      expect(record.endReason).toBe('the server exited unexpectedly: killed by signal SIGSEGV');
    });
  });

  describe('stop', () => {
    it('sends SIGTERM to the group once and is idempotent', async () => {
      const { supervisor, clock, launchReady, statesOf } = await setup();
      const { record, process } = await launchReady();
      const stopAt = clock.now();
      expect(supervisor.stop(record.id, 'stopped by test')).toEqual(supervisor.get(record.id));
      clock.advance(500);
      expect(supervisor.stop(record.id, 'again')).toEqual(supervisor.get(record.id));
      expect(process.signals).toEqual(['SIGTERM']);
      expect(record.stopRequestedAt).toBe(stopAt);
      expect(record.endReason).toBe('stopped by test');
      expect(statesOf(record.id)).toEqual(['starting', 'ready', 'terminating']);
      process.exit(0);
      expect(supervisor.stop(record.id, 'after exit')).toEqual(supervisor.get(record.id));
      expect(process.signals).toEqual(['SIGTERM']);
      expect(record.state).toBe('exited');
      expect(record.endReason).toBe('stopped by test');
    });

    it('of an unknown id is an UnknownSpawnError', async () => {
      const { supervisor } = await setup();
      expect(() => supervisor.stop('nope', 'x')).toThrow(new UnknownSpawnError('nope'));
    });

    it('escalates to SIGKILL after KILL_GRACE_S through sweep()', async () => {
      const { supervisor, clock, launchReady } = await setup({ KILL_GRACE_S: '2', SC_LIVELINESS_INTERVAL_S: '5' });
      const { record, process } = await launchReady();
      supervisor.stop(record.id, 'test');
      clock.advance(1999);
      supervisor.sweep();
      expect(process.signals).toEqual(['SIGTERM']);
      clock.advance(1);
      supervisor.sweep();
      expect(process.signals).toEqual(['SIGTERM', 'SIGKILL']);
    });

    it('releases the port only on exit: not on stop, not on a disconnect report', async () => {
      const { supervisor, ports, launchReady } = await setup();
      const { record, process } = await launchReady();
      const port = record.spec.wsPort;
      supervisor.report(record.id, 'disconnect');
      expect(isLeased(ports, port)).toBe(true);
      supervisor.stop(record.id, 'test');
      expect(isLeased(ports, port)).toBe(true);
      expect(supervisor.capacity().activeSpawns).toBe(1);
      process.exit(null, 'SIGTERM');
      expect(isLeased(ports, port)).toBe(false);
      expect(supervisor.capacity().activeSpawns).toBe(0);
    });
  });
});

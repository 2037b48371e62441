import { Logger } from '@nestjs/common';
import { parseAppConfig } from '../config/app-config';
import { PortAllocator } from '../ports/port-allocator.service';
import { exitOn, flush, isLeased, liveView, supervisorTestingModule } from '../../test/fakes';
import { SpawnEvent, SpawnEvents } from './spawn-events';
import { canTransition, SPAWN_STATES, SpawnState } from './spawn-state';
import { NoCapacityError, SpawnNotReadyError, UnknownSpawnError } from './supervisor.errors';
import { ENDED_SPAWNS_KEPT } from './spawn-registry';
import { SupervisorService } from './supervisor.service';

const LIVELINESS_BASE = 'http://127.0.0.1:11182/liveliness';
const PORT_BASE = 40000;

const DEFAULT_ENV = {
  SC_MAX_SPAWNS: '3',
  SC_PORT_BASE: String(PORT_BASE),
  SC_PORT_COUNT: '6',
  SC_LIVELINESS_INTERVAL_S: '1', // PING_TIMEOUT_S = 3*1+2 = 5
  SPAWN_READY_TIMEOUT_S: '10',
  KILL_GRACE_S: '2',
};

async function setup(env: Record<string, string> = {}) {
  const config = parseAppConfig({ ...DEFAULT_ENV, ...env });
  const { moduleRef, clock, probe, launcher, journal } = await supervisorTestingModule(config, { livelinessBaseUrl: LIVELINESS_BASE });
  const supervisor = moduleRef.get(SupervisorService);
  const ports = moduleRef.get(PortAllocator);
  const events: SpawnEvent[] = [];
  moduleRef.get(SpawnEvents).changes$.subscribe((e) => events.push(e));

  /** Launches a spawn and returns its fake process and a view of it that is read afresh at every access. */
  const launch = async (request: Partial<Parameters<SupervisorService['launch']>[0]> = {}) => {
    const { id } = await supervisor.launch({ rendererType: 'csr', ...request });
    return { record: liveView(supervisor, id), process: launcher.byId(id) };
  };
  /** Launches a spawn and makes it report ready. */
  const launchReady = async () => {
    const spawned = await launch();
    expect(() => supervisor.report(spawned.record.id, 'ready')).not.toThrow();
    return spawned;
  };
  const statesOf = (id: string) => events.filter((e) => e.id === id).map((e) => e.state);
  return { config, clock, probe, launcher, journal, supervisor, ports, events, launch, launchReady, statesOf };
}

/** Settles a promise into a value or an error, for asserting on rejections with full access to the error. */
async function outcome<T>(promise: Promise<T>): Promise<{ value?: T; error?: unknown }> {
  try {
    return { value: await promise };
  } catch (error) {
    return { error };
  }
}

beforeAll(() => Logger.overrideLogger(false));
afterEach(() => jest.useRealTimers());

// ---------------------------------------------------------------------------------------------------------------

describe('SupervisorService', () => {
  describe('launch', () => {
    it('reserves a slot and a port, then starts the command built for the spawn', async () => {
      const { supervisor, ports, launcher, events, launch } = await setup();
      const { record, process } = await launch({ model: 'microengine', sessionToken: 'tok' });

      expect(record.state).toBe('starting');
      expect(record.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(record.spec.wsPort).toBe(PORT_BASE);
      expect(record.pid).toBe(process.pid);
      expect(supervisor.capacity().activeSpawns).toBe(1);
      expect(isLeased(ports, PORT_BASE)).toBe(true);
      expect(ports.counts().leased).toBe(1);
      expect(supervisor.get(record.id)).toEqual(record);

      expect(launcher.launched).toHaveLength(1);
      expect(process.options).toMatchObject({
        id: record.id,
        scPort: PORT_BASE,
        csr: true,
        livelinessEndpoint: LIVELINESS_BASE,
        livelinessUpdateFrequency: 1,
        modelFile: 'microengine',
        sessionToken: 'tok',
      });
      expect(events).toEqual([{ id: record.id, state: 'starting', previousState: null, at: new Date(record.startedAt).toISOString() }]);
    });

    it('uses the id it is given, and a new port per live spawn', async () => {
      const { launch } = await setup();
      const a = await launch({ id: 'spawn-a' });
      const b = await launch({ id: 'spawn-b', rendererType: 'ssr' });
      expect(a.record.id).toBe('spawn-a');
      expect(b.process.options.id).toBe('spawn-b');
      expect(b.process.options.ssr).toBe(true);
      expect(b.record.spec.wsPort).toBe(PORT_BASE + 1);
    });

    it('refuses with NoCapacityError(slots) once SC_MAX_SPAWNS spawns are live', async () => {
      const { supervisor, launch, ports } = await setup({ SC_MAX_SPAWNS: '2' });
      await launch();
      await launch();
      const { error } = await outcome(supervisor.launch({ rendererType: 'csr' }));
      expect(error).toBeInstanceOf(NoCapacityError);
      expect((error as NoCapacityError).reason).toBe('slots');
      expect((error as Error).message).toBe('all 2 spawn slots are in use');
      expect(supervisor.capacity().hasFreeSlot).toBe(false);
      expect(ports.counts().leased).toBe(2);
    });

    it('a slot frees up when a spawn exits', async () => {
      const { supervisor, launch } = await setup({ SC_MAX_SPAWNS: '1' });
      const { process } = await launch();
      await expect(supervisor.launch({ rendererType: 'csr' })).rejects.toMatchObject({ reason: 'slots' });
      process.exit(1);
      expect(supervisor.capacity().hasFreeSlot).toBe(true);
      await expect(supervisor.launch({ rendererType: 'csr' })).resolves.toMatchObject({ state: 'starting' });
    });

    it('never exceeds SC_MAX_SPAWNS under concurrent launches (slow port probes)', async () => {
      const { supervisor, probe, launcher, ports } = await setup({ SC_MAX_SPAWNS: '3', SC_PORT_COUNT: '20' });
      probe.delay = () => Math.floor(Math.random() * 10);
      const results = await Promise.all(Array.from({ length: 12 }, () => outcome(supervisor.launch({ rendererType: 'csr' }))));
      const ok = results.filter((r) => r.value);
      const refused = results.filter((r) => r.error);
      expect(ok).toHaveLength(3);
      expect(refused).toHaveLength(9);
      for (const r of refused) {
        expect(r.error).toBeInstanceOf(NoCapacityError);
        expect((r.error as NoCapacityError).reason).toBe('slots');
      }
      expect(launcher.launched).toHaveLength(3);
      expect(new Set(ok.map((r) => r.value!.spec.wsPort)).size).toBe(3);
      expect(supervisor.capacity().activeSpawns).toBe(3);
      expect(ports.counts().leased).toBe(3);
    });

    it('refuses with NoCapacityError(ports) when no port is free, without leaking the slot', async () => {
      const { supervisor, launch, launcher } = await setup({ SC_MAX_SPAWNS: '3', SC_PORT_COUNT: '1' });
      await launch();
      for (let i = 0; i < 3; i++) {
        const { error } = await outcome(supervisor.launch({ rendererType: 'csr' }));
        expect(error).toBeInstanceOf(NoCapacityError);
        expect((error as NoCapacityError).reason).toBe('ports');
        expect((error as Error).message).toBe(`no free WebSocket port in ${PORT_BASE}-${PORT_BASE}`);
      }
      expect(supervisor.capacity().activeSpawns).toBe(1);
      expect(supervisor.capacity().hasFreeSlot).toBe(true);
      expect(launcher.launched).toHaveLength(1);
    });

    it('refuses with NoCapacityError(ports) when every port is held by another program', async () => {
      const { supervisor, probe } = await setup();
      for (let p = PORT_BASE; p < PORT_BASE + 6; p++) probe.busy.add(p);
      await expect(supervisor.launch({ rendererType: 'csr' })).rejects.toMatchObject({ name: 'NoCapacityError', reason: 'ports' });
      expect(supervisor.capacity().activeSpawns).toBe(0);
    });

    it('a launcher that cannot start the process: the spawn fails and gives back its slot and port', async () => {
      const { supervisor, launch, ports } = await setup();
      const { record, process } = await launch();
      const waiting = outcome(supervisor.waitUntilReady(record.id));
      process.failToStart(new Error('spawn /opt/sc/ts3d_sc_server ENOENT'));
      const { error } = await waiting;
      expect(error).toBeInstanceOf(SpawnNotReadyError);
      expect((error as Error).message).toContain('could not be started: spawn /opt/sc/ts3d_sc_server ENOENT');
      expect(record.state).toBe('failed');
      expect(supervisor.capacity().activeSpawns).toBe(0);
      expect(isLeased(ports, record.spec.wsPort)).toBe(false);
    });

    it('a launcher that throws synchronously: the spawn fails and gives back its slot and port', async () => {
      const { supervisor, launcher, ports, statesOf } = await setup();
      launcher.throwOnLaunch = Object.assign(new Error('spawn E2BIG'), { code: 'E2BIG' });
      const record = await supervisor.launch({ rendererType: 'csr' });
      expect(record.state).toBe('failed');
      expect(record.endReason).toContain('could not be started: spawn E2BIG');
      expect(statesOf(record.id)).toEqual(['starting', 'failed']);
      expect(supervisor.capacity().activeSpawns).toBe(0);
      expect(ports.counts().leased).toBe(0);
      await expect(supervisor.waitUntilReady(record.id)).rejects.toBeInstanceOf(SpawnNotReadyError);
    });

    it('a command that cannot be built: the error surfaces and neither the slot nor the port is kept', async () => {
      const { supervisor, ports, launcher, events } = await setup();
      await expect(supervisor.launch({ id: 'bad', rendererType: 'csr', extraModelDirs: ['/models/a;b'] })).rejects.toThrow(/--model-search-directories/);
      expect(supervisor.capacity().activeSpawns).toBe(0);
      expect(ports.counts().leased).toBe(0);
      expect(supervisor.get('bad')).toBeUndefined();
      expect(launcher.launched).toHaveLength(0);
      expect(events).toEqual([]);
    });
  });

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

    it('exit before ready: failed, and waitUntilReady rejects with the exit code, its meaning and the last stderr lines', async () => {
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
      expect(message).toBe('the server exited before it was ready: exit code 6 (invalid license); last stderr: problem 3 | problem 4 | problem 5 | problem 6 | problem 7');
      expect((error as SpawnNotReadyError).spawn).toEqual(supervisor.get(record.id));
      expect(record.state).toBe('failed');
      expect(record.exitCode).toBe(6);
      expect(record.signal).toBeNull();
      expect(record.endReason).toBe(message);
      expect(statesOf(record.id)).toEqual(['starting', 'failed']);
      expect(isLeased(ports, record.spec.wsPort)).toBe(false);
      expect(supervisor.logs(record.id).map((l) => l.line)).toEqual(['starting up', ...[1, 2, 3, 4, 5, 6, 7].map((i) => `problem ${i}`), 'bye']);
      // Asked again later, the answer is the same.
      await expect(supervisor.waitUntilReady(record.id)).rejects.toThrow(message);
    });

    it('exit before ready without stderr names only the exit', async () => {
      const { supervisor, launch } = await setup();
      const { record, process } = await launch();
      const waiting = outcome(supervisor.waitUntilReady(record.id));
      process.exit(3);
      expect(((await waiting).error as Error).message).toBe('the server exited before it was ready: exit code 3 (internal error)');
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

  describe('journal of running servers', () => {
    it('lists every launched server with its pid and port, and drops each once it has exited', async () => {
      const { supervisor, launch, journal } = await setup();
      const a = await launch({ id: 'spawn-a' });
      const b = await launch({ id: 'spawn-b' });
      expect(journal.entries).toEqual([
        { id: 'spawn-a', pid: a.process.pid, wsPort: a.record.spec.wsPort },
        { id: 'spawn-b', pid: b.process.pid, wsPort: b.record.spec.wsPort },
      ]);
      supervisor.stop('spawn-a', 'test');
      expect(journal.entries).toHaveLength(2); // still running until it exits
      a.process.exit(0);
      expect(journal.entries).toEqual([{ id: 'spawn-b', pid: b.process.pid, wsPort: b.record.spec.wsPort }]);
      b.process.exit(1);
      expect(journal.entries).toEqual([]);
    });
  });

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
      expect((error as Error).message).toContain('license rejected');
    });

    it('no ready within SPAWN_READY_TIMEOUT_S: timed_out, terminating with SIGTERM to the group, SIGKILL after KILL_GRACE_S, again if it survives', async () => {
      const { supervisor, clock, launch, events, ports } = await setup({ SPAWN_READY_TIMEOUT_S: '10', KILL_GRACE_S: '2' });
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
      expect(record.endReason).toBe('the viewer session ended');
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

  describe('reports and history', () => {
    it('report() for an unknown id is an UnknownSpawnError; for an ended one it is accepted and changes nothing', async () => {
      const { supervisor, launchReady, events } = await setup();
      expect(() => supervisor.report('nope', 'ping')).toThrow(UnknownSpawnError);
      const { record, process } = await launchReady();
      process.exit(0);
      const endedState = record.state;
      const eventCount = events.length;
      const lastReport = record.lastReportAt;
      expect(() => supervisor.report(record.id, 'ping')).not.toThrow();
      expect(() => supervisor.report(record.id, 'disconnect')).not.toThrow();
      expect(record.state).toBe(endedState);
      expect(record.lastReportAt).toBe(lastReport);
      expect(events).toHaveLength(eventCount);
    });

    it(`keeps the last ${ENDED_SPAWNS_KEPT} ended spawns; get(id) still answers for them`, async () => {
      const { supervisor, launch } = await setup({ SC_MAX_SPAWNS: '1', SC_PORT_COUNT: '2' });
      const ids: string[] = [];
      for (let i = 0; i < ENDED_SPAWNS_KEPT + 5; i++) {
        const { record, process } = await launch();
        ids.push(record.id);
        process.exit(1);
      }
      const live = await launch();
      expect(ENDED_SPAWNS_KEPT).toBe(100);
      const list = supervisor.list();
      expect(list).toHaveLength(ENDED_SPAWNS_KEPT + 1);
      expect(list[0]).toEqual(live.record);
      // Ended ones, most recent first.
      expect(list.slice(1).map((r) => r.id)).toEqual(ids.slice(5).reverse());
      for (const id of ids.slice(0, 5)) {
        expect(supervisor.get(id)).toBeUndefined();
        expect(() => supervisor.report(id, 'ping')).toThrow(UnknownSpawnError);
      }
      for (const id of ids.slice(5)) {
        expect(supervisor.get(id)?.state).toBe('failed');
        expect(() => supervisor.report(id, 'ping')).not.toThrow();
      }
      expect(supervisor.capacity().states).toEqual({ ...Object.fromEntries(SPAWN_STATES.map((s) => [s, 0])), starting: 1, failed: 100 });
    });

    it('countByState() counts live and ended spawns', async () => {
      const { supervisor, launch, launchReady } = await setup();
      await launch();
      await launchReady();
      const third = await launchReady();
      third.process.exit(0);
      const counts: Record<string, number> = supervisor.capacity().states;
      expect(counts.starting).toBe(1);
      expect(counts.ready).toBe(1);
      expect(counts.exited).toBe(1);
      expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(3);
    });
  });

  describe('transitions', () => {
    it('ignores reports that do not apply to the current state', async () => {
      const { supervisor, clock, launch, statesOf } = await setup();
      const { record, process } = await launch();
      expect(() => supervisor.report(record.id, 'disconnect')).not.toThrow(); // while starting: ignored
      expect(record.state).toBe('starting');
      supervisor.viewerAttached(record.id); // not ready yet: ignored
      expect(record.state).toBe('starting');
      supervisor.report(record.id, 'ready');
      supervisor.report(record.id, 'ready');
      supervisor.viewerAttached(record.id);
      supervisor.viewerAttached(record.id);
      supervisor.report(record.id, 'ready'); // connected: ignored
      supervisor.report(record.id, 'disconnect');
      supervisor.report(record.id, 'disconnect');
      supervisor.report(record.id, 'ready');
      supervisor.viewerAttached(record.id);
      clock.advance(10_000);
      supervisor.sweep();
      supervisor.report(record.id, 'ready'); // terminating: ignored
      supervisor.report(record.id, 'disconnect');
      supervisor.viewerAttached(record.id);
      process.exit(0);
      expect(statesOf(record.id)).toEqual(['starting', 'ready', 'connected', 'disconnected', 'terminating', 'exited']);
    });

    it('emits one event per transition, each with its previous state and the time', async () => {
      const { supervisor, clock, launchReady, events } = await setup();
      const { record, process } = await launchReady();
      supervisor.viewerAttached(record.id);
      clock.advance(7);
      supervisor.stop(record.id, 'bye');
      process.exit(0);
      expect(events.map((e) => [e.previousState, e.state])).toEqual([
        [null, 'starting'],
        ['starting', 'ready'],
        ['ready', 'connected'],
        ['connected', 'terminating'],
        ['terminating', 'exited'],
      ]);
      expect(events.every((e) => e.id === record.id)).toBe(true);
      expect(events[3].at).toBe(new Date(clock.now()).toISOString());
      expect(events[3].detail).toBe('bye');
      expect(events[4].detail).toBe('exit code 0 (success (normal shutdown))');
      expect(record.stateChangedAt).toBe(clock.now());
    });

    it('random sequences of reports, stops, sweeps and exits only ever make allowed transitions', async () => {
      // A small deterministic PRNG so a failure can be replayed.
      let seed = 12345;
      const random = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
      const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];

      const { supervisor, clock, launcher, events } = await setup({ SC_MAX_SPAWNS: '4', SC_PORT_COUNT: '8' });
      const errors: unknown[] = [];
      for (let step = 0; step < 3000; step++) {
        const live = launcher.launched.filter((p) => !p.exited);
        const target = live.length > 0 ? pick(live) : undefined;
        try {
          switch (pick(['launch', 'ready', 'ping', 'disconnect', 'attach', 'stop', 'sweep', 'exit', 'exit'] as const)) {
            case 'launch':
              await outcome(supervisor.launch({ rendererType: pick(['csr', 'ssr'] as const) }));
              break;
            case 'ready':
            case 'ping':
            case 'disconnect': {
              const value = pick(['ready', 'ping', 'disconnect'] as const);
              if (target) supervisor.report(target.id, value);
              break;
            }
            case 'attach':
              if (target) supervisor.viewerAttached(target.id);
              break;
            case 'stop':
              if (target) supervisor.stop(target.id, 'random stop');
              break;
            case 'sweep':
              clock.advance(Math.floor(random() * 4000));
              supervisor.sweep();
              break;
            case 'exit':
              if (target) target.exit(pick([0, 1, 3, null]), null);
              break;
          }
        } catch (error) {
          errors.push(error);
        }
      }
      expect(errors).toEqual([]);
      const lastState = new Map<string, SpawnState>();
      for (const event of events) {
        if (event.previousState === null) {
          expect(event.state).toBe('starting');
          expect(lastState.has(event.id)).toBe(false);
        } else {
          expect(event.previousState).toBe(lastState.get(event.id));
          expect(canTransition(event.previousState, event.state)).toBe(true);
        }
        lastState.set(event.id, event.state);
      }
      // Every record agrees with its last event, and every exited process ended its record.
      for (const process of launcher.launched) {
        const record = supervisor.get(process.id);
        if (!record) continue; // dropped from the history
        expect(record.state).toBe(lastState.get(process.id));
        expect(['failed', 'exited'].includes(record.state)).toBe(process.exited);
      }
      expect(events.length).toBeGreaterThan(200);
    });
  });

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

  it('hands out frozen views with the spec they were launched with, never the records it changes', async () => {
    const { supervisor } = await setup();
    const launched = await supervisor.launch({ rendererType: 'ssr', model: 'bnc.scz' });
    expect(launched.spec).toMatchObject({ rendererType: 'ssr', model: 'bnc.scz', wsPort: PORT_BASE });
    expect(Object.isFrozen(launched)).toBe(true);
    expect(Object.isFrozen(launched.spec)).toBe(true);
    expect(() => ((launched as { state: string }).state = 'ready')).toThrow(TypeError);
    supervisor.report(launched.id, 'ready');
    expect(launched.state).toBe('starting');
    expect(supervisor.get(launched.id)).not.toBe(supervisor.get(launched.id));
    expect(supervisor.get(launched.id)?.state).toBe('ready');
  });
});

import { Logger } from '@nestjs/common';
import { isLeased } from '../../../test/fakes';
import { setup, outcome, PORT_BASE, LIVELINESS_BASE } from '../../../test/fakes/supervisor-harness';
import { NoCapacityError, SpawnNotReadyError } from '../rules/supervisor.errors';
import { SpawnEvents } from './spawn-events';

beforeAll(() => Logger.overrideLogger(false));
afterEach(() => jest.useRealTimers());

/** The journal is written once the current synchronous work is done (next tick). */
const written = () => new Promise((resolve) => setImmediate(resolve));

describe('SupervisorService: launch and the journal', () => {
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
      expect(events).toEqual([
        { id: record.id, state: 'starting', previousState: null, at: new Date(record.startedAt).toISOString() },
      ]);
    });

    it('starts the server before it announces the start, so the fork is under way meanwhile', async () => {
      const { moduleRef, supervisor, launcher } = await setup();
      const launchedWhenAnnounced: number[] = [];
      moduleRef.get(SpawnEvents).changes$.subscribe((e) => {
        if (e.state === 'starting') launchedWhenAnnounced.push(launcher.launched.length);
      });
      await supervisor.launch({ rendererType: 'csr' });
      await supervisor.launch({ rendererType: 'csr' });
      expect(launchedWhenAnnounced).toEqual([1, 2]);
    });

    it("passes servers the service's environment as it was at start-up (read once, not per spawn)", async () => {
      process.env.SC_TEST_LOCALE_BEFORE = 'x';
      process.env.LC_TEST_BEFORE = 'before';
      try {
        const { launch } = await setup({ SC_CHILD_ENV: 'SC_TEST_LOCALE_BEFORE,LC_TEST_AFTER' });
        process.env.LC_TEST_AFTER = 'after';
        process.env.LC_TEST_BEFORE = 'changed';
        const { process: server } = await launch();
        expect(server.command.env).toMatchObject({ SC_TEST_LOCALE_BEFORE: 'x', LC_TEST_BEFORE: 'before' });
        expect(server.command.env).not.toHaveProperty('LC_TEST_AFTER');
      } finally {
        for (const name of ['SC_TEST_LOCALE_BEFORE', 'LC_TEST_BEFORE', 'LC_TEST_AFTER']) delete process.env[name];
      }
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
      const results = await Promise.all(
        Array.from({ length: 12 }, () => outcome(supervisor.launch({ rendererType: 'csr' }))),
      );
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
        expect((error as Error).message).toBe(
          `no free WebSocket port in ${PORT_BASE}-${PORT_BASE}: all 1 leased by this node's servers`,
        );
      }
      expect(supervisor.capacity().activeSpawns).toBe(1);
      expect(supervisor.capacity().hasFreeSlot).toBe(true);
      expect(launcher.launched).toHaveLength(1);
    });

    it('refuses with NoCapacityError(ports) when every port is held by another program', async () => {
      const { supervisor, probe } = await setup();
      for (let p = PORT_BASE; p < PORT_BASE + 6; p++) probe.busy.add(p);
      await expect(supervisor.launch({ rendererType: 'csr' })).rejects.toMatchObject({
        name: 'NoCapacityError',
        reason: 'ports',
      });
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
      await expect(
        supervisor.launch({ id: 'bad', rendererType: 'csr', extraModelDirs: ['/models/a;b'] }),
      ).rejects.toThrow(/--model-search-directories/);
      expect(supervisor.capacity().activeSpawns).toBe(0);
      expect(ports.counts().leased).toBe(0);
      expect(supervisor.get('bad')).toBeUndefined();
      expect(launcher.launched).toHaveLength(0);
      expect(events).toEqual([]);
    });
  });

  describe('journal of running servers', () => {
    it('lists every launched server with its pid, start time, port and argument fingerprint, and drops each once it has exited', async () => {
      const { supervisor, launch, journal } = await setup();
      const a = await launch({ id: 'spawn-a' });
      const b = await launch({ id: 'spawn-b' });
      const entryOf = (l: typeof a) => ({
        id: l.record.id,
        pid: l.process.pid,
        wsPort: l.record.spec.wsPort,
        startTime: '4242',
        argsHash: expect.stringMatching(/^[0-9a-f]{64}$/) as unknown,
        argCount: expect.any(Number) as unknown,
      });
      await written();
      expect(journal.entries).toEqual([entryOf(a), entryOf(b)]);
      supervisor.stop('spawn-a', 'test');
      await written();
      expect(journal.entries).toHaveLength(2); // still running until it exits
      a.process.exit(0);
      await written();
      expect(journal.entries).toEqual([entryOf(b)]);
      b.process.exit(1);
      await written();
      expect(journal.entries).toEqual([]);
    });

    it('is written once per batch of synchronous work, however many servers changed in it', async () => {
      const { launch, journal } = await setup();
      const a = await launch({ id: 'spawn-a' });
      const b = await launch({ id: 'spawn-b' });
      await written();
      const writes = journal.saved.length;
      a.process.exit(0);
      b.process.exit(0);
      expect(journal.saved).toHaveLength(writes);
      await written();
      expect(journal.saved).toHaveLength(writes + 1);
      expect(journal.entries).toEqual([]);
    });
  });
});

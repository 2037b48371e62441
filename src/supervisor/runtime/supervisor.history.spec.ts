import { Logger } from '@nestjs/common';
import { setup, outcome, PORT_BASE } from '../../../test/fakes/supervisor-harness';
import { canTransition, SPAWN_STATES, SpawnState } from '../rules/spawn-state';
import { UnknownSpawnError } from '../rules/supervisor.errors';
import { ENDED_SPAWNS_KEPT } from './spawn-registry';

beforeAll(() => Logger.overrideLogger(false));
afterEach(() => jest.useRealTimers());

describe('SupervisorService: reports, history, transitions and views', () => {
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
      expect(supervisor.capacity().states).toEqual({
        ...Object.fromEntries(SPAWN_STATES.map((s) => [s, 0])),
        starting: 1,
        failed: 100,
      });
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
      const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
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

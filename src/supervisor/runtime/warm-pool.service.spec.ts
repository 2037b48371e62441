import { Logger } from '@nestjs/common';
import { exitOn, FakeProcess, flush } from '../../../test/fakes';
import { outcome, setup } from '../../../test/fakes/supervisor-harness';
import { ClientGoneError, NoCapacityError } from '../rules/supervisor.errors';
import { WarmPool } from './warm-pool.service';

beforeAll(() => Logger.overrideLogger(false));

/** A supervisor on fakes with a warm pool; `fill()` runs the policy and makes every new warm server ready. */
async function warmSetup(env: Record<string, string> = {}) {
  const harness = await setup({ SC_MAX_SPAWNS: '3', SC_WARM_POOL_CSR: '2', SC_WARM_MAX_AGE_S: '600', ...env });
  const pool = harness.moduleRef.get(WarmPool);
  const { launcher, supervisor } = harness;
  const warmProcesses = () => launcher.launched.filter((p) => supervisor.get(p.id)?.spec.warm);
  const makeReady = (processes: FakeProcess[]) => {
    for (const p of processes) if (supervisor.get(p.id)?.state === 'starting') supervisor.report(p.id, 'ready');
  };
  const fill = async () => {
    pool.reconcile();
    await flush();
    await flush();
    makeReady(warmProcesses());
    await flush();
  };
  return { ...harness, pool, warmProcesses, fill, makeReady };
}

describe('WarmPool', () => {
  it('fills the pool with servers started with no per-session options and a longer initial use', async () => {
    const { fill, warmProcesses, supervisor, config } = await warmSetup({ SC_INITIAL_USE_DURATION_S: '45' });
    await fill();
    expect(warmProcesses()).toHaveLength(2);
    for (const p of warmProcesses()) {
      expect(p.options.modelFile).toBeUndefined();
      expect(p.options.sessionToken).toBeUndefined();
      expect(p.options.initialUseDuration).toBe(645);
      expect(p.options.csr).toBe(true);
    }
    expect(config.warmPool).toEqual({ csr: 2, ssr: 0 });
    const capacity = supervisor.capacity();
    expect(capacity.warm).toMatchObject({ csr: 2, ssr: 0, target: { csr: 2, ssr: 0 }, failing: null, retryAt: null });
    expect(capacity.activeSpawns).toBe(2);
  });

  it('a request that needs no options claims a ready one at once, under its id; a replacement starts', async () => {
    const { fill, warmProcesses, supervisor, launcher, pool } = await warmSetup();
    await fill();
    const [first] = warmProcesses();
    const launchedBefore = launcher.launched.length;
    const view = await supervisor.spawn({ rendererType: 'csr' });
    expect(view.id).toBe(first.id); // the server's --id is the session's id
    expect(first.options.id).toBe(view.id);
    expect(view.spec.warm).toBe(true);
    expect(view.claimedAt).toBeDefined();
    expect(view.state).toBe('ready');
    expect(launcher.launched.length).toBe(launchedBefore); // nothing started for the request itself
    await flush();
    await flush();
    expect(launcher.launched.length).toBe(launchedBefore + 1); // the replacement
    expect(pool.stats()).toEqual({
      servers: { csr: 1, ssr: 0 },
      claims: { csr: 1, ssr: 0 },
      misses: { csr: {}, ssr: {} },
    });
  });

  it('a request with a session token, a model or model folders goes cold; so does one when none is ready', async () => {
    const { fill, supervisor, launcher, pool, warmProcesses } = await warmSetup({
      SC_MAX_SPAWNS: '10',
      SC_PORT_COUNT: '20',
    });
    await fill();
    for (const request of [{ sessionToken: 'tok' }, { model: 'microengine' }, { extraModelDirs: ['/m'] }]) {
      const spawning = supervisor.spawn({ rendererType: 'csr', ...request });
      await flush();
      const cold = launcher.launched[launcher.launched.length - 1];
      expect(supervisor.get(cold.id)?.spec.warm).toBeUndefined();
      supervisor.report(cold.id, 'ready');
      const view = await spawning;
      expect(view.id).toBe(cold.id);
    }
    expect(launcher.launched.find((p) => p.options.sessionToken === 'tok')).toBeDefined();
    expect(warmProcesses().every((p) => supervisor.get(p.id)?.claimedAt === undefined)).toBe(true);
    // Nothing ready (both claimed, replacements still starting): cold.
    await supervisor.spawn({ rendererType: 'csr' });
    await supervisor.spawn({ rendererType: 'csr' });
    await flush();
    const spawning = supervisor.spawn({ rendererType: 'csr' });
    await flush();
    const cold = launcher.launched[launcher.launched.length - 1];
    supervisor.report(cold.id, 'ready');
    expect((await spawning).spec.warm).toBeUndefined();
    expect(pool.stats().misses.csr).toEqual({ needs_options: 3, none_ready: 1 });
    expect(pool.stats().claims.csr).toBe(2);
    // SSR has no pool: no claim, no miss counted.
    const ssr = supervisor.spawn({ rendererType: 'ssr' });
    await flush();
    supervisor.report(launcher.launched[launcher.launched.length - 1].id, 'ready');
    await ssr;
    expect(pool.stats().misses.ssr).toEqual({});
  });

  it('a cold request at capacity retires an unclaimed warm server and takes its slot once it exited', async () => {
    const { fill, supervisor, launcher, warmProcesses, pool } = await warmSetup({ SC_MAX_SPAWNS: '2' });
    await fill();
    expect(supervisor.capacity()).toMatchObject({
      activeSpawns: 2,
      hasFreeSlot: false,
      freeSlots: 2,
      canAcceptSpawn: true,
    });
    const victim = warmProcesses()[0];
    let exitVictim: () => void = () => undefined;
    launcher.onSignal = (p, signal) => {
      if (signal === 'SIGTERM') exitVictim = () => p.exit(0);
    };
    const spawning = supervisor.spawn({ rendererType: 'csr', sessionToken: 'tok' });
    await flush();
    expect(victim.signals).toEqual(['SIGTERM']);
    expect(supervisor.get(victim.id)?.endReason).toMatch(/retired from the warm pool/);
    // Until it exits, nothing else may start: not the cold server, not a warm replacement.
    pool.reconcile();
    await flush();
    expect(launcher.launched).toHaveLength(2);
    // The other warm server could still be retired; the victim's slot is the cold request's already.
    expect(supervisor.capacity()).toMatchObject({ canAcceptSpawn: true, freeSlots: 1 });
    exitVictim();
    await flush();
    await flush();
    expect(launcher.launched).toHaveLength(3);
    const cold = launcher.launched[2];
    expect(cold.options.sessionToken).toBe('tok');
    supervisor.report(cold.id, 'ready');
    await spawning;
    pool.reconcile();
    await flush();
    expect(launcher.launched).toHaveLength(3); // at capacity: the pool waits for a free slot
    expect(supervisor.capacity()).toMatchObject({ activeSpawns: 2, freeSlots: 1 });
  });

  it('a client already gone: no warm server is claimed for it and nothing is started (ClientGoneError)', async () => {
    const { fill, supervisor, launcher, pool } = await warmSetup();
    await fill();
    const launched = launcher.launched.length;
    const gone = new AbortController();
    gone.abort();
    const { error } = await outcome(supervisor.spawn({ rendererType: 'csr' }, gone.signal));
    expect(error).toBeInstanceOf(ClientGoneError);
    const cold = await outcome(supervisor.spawn({ rendererType: 'csr', sessionToken: 'tok' }, gone.signal));
    expect(cold.error).toBeInstanceOf(ClientGoneError);
    expect([pool.stats().claims.csr, supervisor.capacity().warm.csr, launcher.launched.length]).toEqual([
      0,
      2,
      launched,
    ]);
  });

  it('a client gone while the warm server retired for it exits: nothing is started for it; the pool refills', async () => {
    const { fill, supervisor, launcher, warmProcesses, pool } = await warmSetup({ SC_MAX_SPAWNS: '2' });
    await fill();
    let exitVictim: () => void = () => undefined;
    launcher.onSignal = (p, signal) => {
      if (signal === 'SIGTERM') exitVictim = () => p.exit(0);
    };
    const client = new AbortController();
    const spawning = outcome(supervisor.spawn({ rendererType: 'csr', sessionToken: 'tok' }, client.signal));
    await flush();
    expect(warmProcesses()[0].signals).toEqual(['SIGTERM']);
    client.abort();
    exitVictim();
    expect((await spawning).error).toBeInstanceOf(ClientGoneError);
    expect(launcher.launched).toHaveLength(2); // no cold server
    expect(supervisor.capacity()).toMatchObject({ activeSpawns: 1, hasFreeSlot: true });
    pool.reconcile();
    await flush();
    expect(launcher.launched).toHaveLength(3); // the replacement, in the slot given back
  });

  it('every port held by warm servers (SC_PORT_COUNT = SC_MAX_SPAWNS): still ready, a cold request retires one', async () => {
    const { fill, supervisor, launcher, warmProcesses } = await warmSetup({ SC_MAX_SPAWNS: '2', SC_PORT_COUNT: '2' });
    await fill();
    expect(supervisor.capacity()).toMatchObject({ ports: { free: 0 }, spareWarm: 2, canAcceptSpawn: true });
    const [victim] = warmProcesses();
    launcher.onSignal = exitOn('SIGTERM');
    const spawning = supervisor.spawn({ rendererType: 'csr', sessionToken: 'tok' });
    await flush();
    await flush();
    const cold = launcher.launched[launcher.launched.length - 1];
    expect([victim.signals, cold.options.sessionToken]).toEqual([['SIGTERM'], 'tok']);
    supervisor.report(cold.id, 'ready');
    expect((await spawning).spec.wsPort).toBe(supervisor.get(victim.id)?.spec.wsPort);
  });

  it("ports short with a slot free (SC_PORT_COUNT < SC_MAX_SPAWNS): a cold request takes a warm server's port", async () => {
    const { fill, supervisor, launcher, warmProcesses } = await warmSetup({ SC_MAX_SPAWNS: '3', SC_PORT_COUNT: '2' });
    await fill();
    expect(supervisor.capacity()).toMatchObject({ hasFreeSlot: true, ports: { free: 0 }, spareWarm: 2 });
    launcher.onSignal = exitOn('SIGTERM');
    const spawning = supervisor.spawn({ rendererType: 'csr', sessionToken: 'tok' });
    await flush();
    await flush();
    expect(warmProcesses().filter((p) => p.signals.includes('SIGTERM'))).toHaveLength(1);
    const cold = launcher.launched[launcher.launched.length - 1];
    supervisor.report(cold.id, 'ready');
    expect((await spawning).spec.sessionToken).toBe('tok');
  });

  it('at capacity with no warm server left to retire: 503 (NoCapacityError) as before', async () => {
    const { fill, supervisor } = await warmSetup({ SC_MAX_SPAWNS: '2' });
    await fill();
    await supervisor.spawn({ rendererType: 'csr' });
    await supervisor.spawn({ rendererType: 'csr' });
    expect(supervisor.capacity()).toMatchObject({ canAcceptSpawn: false, freeSlots: 0 });
    const { error } = await outcome(supervisor.spawn({ rendererType: 'csr', sessionToken: 'tok' }));
    expect(error).toBeInstanceOf(NoCapacityError);
  });

  it('servers that fail to start back off exponentially, one probe at a time; a ready one resets it', async () => {
    const { pool, launcher, clock, supervisor } = await warmSetup({ SC_WARM_POOL_CSR: '2' });
    const failAll = async () => {
      for (const p of launcher.launched.filter((p) => !p.exited)) p.exit(6);
      await flush();
      await flush();
    };
    pool.reconcile();
    await flush();
    expect(launcher.launched).toHaveLength(2);
    await failAll();
    expect(launcher.launched).toHaveLength(2); // no immediate refill: two failures, 2 s pause
    const launchesAfter = (ms: number) => {
      clock.advance(ms);
      pool.reconcile();
      return flush().then(() => launcher.launched.length);
    };
    expect(supervisor.capacity().warm.failing).toBeNull();
    expect(await launchesAfter(1999)).toBe(2);
    expect(await launchesAfter(1)).toBe(3); // a single probe after the pause
    expect(await launchesAfter(5000)).toBe(3); // not a second one while it starts
    await failAll();
    const status = supervisor.capacity().warm;
    expect(status.failing).toMatch(
      /^warm csr servers keep failing to start \(3 in a row\): the server exited before it was ready: exit code 6/,
    );
    expect(status.retryAt).toBe(new Date(clock.now() + 4000).toISOString());
    expect(await launchesAfter(3999)).toBe(3);
    expect(await launchesAfter(1)).toBe(4);
    supervisor.report(launcher.launched[3].id, 'ready');
    await flush();
    await flush();
    expect(supervisor.capacity().warm).toMatchObject({ failing: null, retryAt: null });
    expect(launcher.launched).toHaveLength(5); // healthy again: the rest is filled at once
  });

  it('a warm server that dies or stops reporting is replaced', async () => {
    const { fill, launcher, warmProcesses, supervisor, clock, pool } = await warmSetup();
    await fill();
    warmProcesses()[0].exit(null, 'SIGKILL');
    await flush();
    await flush();
    clock.advance(1000);
    pool.reconcile();
    await flush();
    expect(launcher.launched).toHaveLength(3);
    supervisor.report(launcher.launched[2].id, 'ready');
    // A frozen one: never claimed once its reports are overdue, stopped by the sweep, then replaced.
    const frozen = warmProcesses()[1];
    launcher.onSignal = exitOn('SIGTERM');
    clock.advance(4500);
    expect(pool.claim({ rendererType: 'csr' })).toBeUndefined();
    supervisor.sweep();
    await flush();
    await flush();
    expect(frozen.signals).toContain('SIGTERM');
    expect(supervisor.get(frozen.id)?.state).toBe('exited');
    expect(supervisor.get(frozen.id)?.endReason).toMatch(/no liveliness report/);
    clock.advance(1000); // the first failure since the last ready: a 1 s pause
    pool.reconcile();
    await flush();
    expect(launcher.launched).toHaveLength(4);
  });

  it('retires unclaimed servers that reached SC_WARM_MAX_AGE_S and replaces them', async () => {
    const { fill, launcher, clock, pool, warmProcesses } = await warmSetup({ SC_WARM_MAX_AGE_S: '10' });
    await fill();
    launcher.onSignal = exitOn('SIGTERM');
    clock.advance(9999);
    pool.reconcile();
    await flush();
    expect(warmProcesses().flatMap((p) => p.signals)).toEqual([]);
    clock.advance(1);
    pool.reconcile();
    await flush();
    await flush();
    await flush();
    const [a, b] = warmProcesses();
    expect([a.signals, b.signals]).toEqual([['SIGTERM'], ['SIGTERM']]);
    expect(launcher.launched).toHaveLength(4);
  });

  it('shutdown stops the unclaimed warm servers first, then the sessions, and never refills', async () => {
    const { fill, launcher, supervisor, pool, warmProcesses } = await warmSetup({ SC_MAX_SPAWNS: '4' });
    await fill();
    const session = await supervisor.spawn({ rendererType: 'csr' });
    await flush();
    await flush();
    const order: string[] = [];
    launcher.onSignal = (p, signal) => {
      order.push(p.id);
      exitOn('SIGTERM')(p, signal);
    };
    const unclaimed = warmProcesses()
      .map((p) => p.id)
      .filter((id) => supervisor.get(id)?.claimedAt === undefined);
    expect(unclaimed).toHaveLength(2);
    const launched = launcher.launched.length;
    await supervisor.shutdown();
    expect(order.slice(0, 2).sort()).toEqual([...unclaimed].sort());
    expect(order[2]).toBe(session.id);
    pool.reconcile();
    await flush();
    expect(launcher.launched).toHaveLength(launched);
    expect(supervisor.capacity().activeSpawns).toBe(0);
    expect(await supervisor.spawn({ rendererType: 'csr' }).catch((e: unknown) => e)).toBeInstanceOf(NoCapacityError);
  });

  it('counts a warm server being forked once: as starting, not also as a launch under way', async () => {
    const { launcher, supervisor, pool } = await warmSetup({ SC_MAX_SPAWNS: '4', SC_WARM_POOL_CSR: '2' });
    // The fork takes a while (the spawn helper): the spawns are registered, their processes not started yet.
    const forks: (() => void)[] = [];
    const launch = launcher.launch.bind(launcher);
    launcher.launch = (command, handlers) =>
      new Promise((resolve) => forks.push(() => resolve(launch(command, handlers)))) as never;
    pool.reconcile();
    await flush();
    await flush();
    expect(forks).toHaveLength(2);
    expect(supervisor.capacity().states.starting).toBe(2);
    expect(supervisor.capacity().warm.starting.csr).toBe(2);
    pool.reconcile(); // the deficit is 0, not -2: nothing more, nothing less
    await flush();
    expect(forks).toHaveLength(2);
    for (const fork of forks) fork();
    await flush();
    expect(supervisor.capacity().warm.starting.csr).toBe(2);
  });

  it('a cold request while every warm server of a full node is aging out takes the first slot they free', async () => {
    const { fill, launcher, clock, pool, supervisor, warmProcesses } = await warmSetup({
      SC_MAX_SPAWNS: '2',
      SC_WARM_MAX_AGE_S: '10',
    });
    await fill();
    clock.advance(10_000);
    pool.reconcile(); // both retired at once; their exits are still to come
    await flush();
    const [a, b] = warmProcesses();
    expect([a.signals, b.signals]).toEqual([['SIGTERM'], ['SIGTERM']]);
    expect(supervisor.capacity()).toMatchObject({ hasFreeSlot: false, canAcceptSpawn: true });
    const first = outcome(supervisor.spawn({ rendererType: 'csr', sessionToken: 'one' }));
    const second = outcome(supervisor.spawn({ rendererType: 'csr', sessionToken: 'two' }));
    await flush();
    expect(supervisor.capacity().activeSpawns).toBe(2); // two leaving servers, their slots promised: still 2
    const third = await outcome(supervisor.spawn({ rendererType: 'csr', sessionToken: 'three' }));
    expect(third.error).toBeInstanceOf(NoCapacityError); // each leaving server's slot goes to one request
    expect(supervisor.capacity().canAcceptSpawn).toBe(false);
    a.exit(null, 'SIGTERM');
    b.exit(null, 'SIGTERM');
    await flush();
    await flush();
    const cold = launcher.launched.slice(2);
    expect(cold.map((p) => p.options.sessionToken).sort()).toEqual(['one', 'two']);
    for (const p of cold) supervisor.report(p.id, 'ready');
    expect((await first).value?.state).toBe('ready');
    expect((await second).value?.state).toBe('ready');
    pool.reconcile();
    await flush();
    expect(launcher.launched).toHaveLength(4); // the sessions won: no refill beyond SC_MAX_SPAWNS
    expect(supervisor.capacity().activeSpawns).toBe(2);
  });

  it('a warm server retired for a cold request and its reserved slot count once while it exits', async () => {
    const { fill, launcher, supervisor, warmProcesses } = await warmSetup({ SC_MAX_SPAWNS: '2' });
    await fill();
    const spawning = outcome(supervisor.spawn({ rendererType: 'csr', sessionToken: 'tok' }));
    await flush();
    const [victim] = warmProcesses().filter((p) => p.signals.length > 0);
    expect(supervisor.capacity()).toMatchObject({ activeSpawns: 2, maxSpawns: 2, hasFreeSlot: false });
    victim.exit(null, 'SIGTERM');
    await flush();
    await flush();
    expect(supervisor.capacity().activeSpawns).toBe(2);
    supervisor.report(launcher.launched[2].id, 'ready');
    expect((await spawning).value?.state).toBe('ready');
    expect(supervisor.capacity().activeSpawns).toBe(2);
  });
});

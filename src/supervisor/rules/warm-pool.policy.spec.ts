import {
  backoffAfterFailure,
  backoffAfterReady,
  decideWarmPool,
  isFailing,
  pickWarmToRetire,
  WARM_BACKOFF_MAX_MS,
  WarmBackoff,
  WarmMember,
  WarmPoolInput,
} from './warm-pool.policy';

const T0 = Date.UTC(2026, 0, 1);
const AGE_MS = 600_000;

function input(overrides: Partial<WarmPoolInput> = {}): WarmPoolInput {
  return {
    now: T0,
    desired: { csr: 0, ssr: 0 },
    members: [],
    launching: { csr: 0, ssr: 0 },
    freeSlots: 10,
    backoff: { csr: { failures: 0 }, ssr: { failures: 0 } },
    maxAgeMs: AGE_MS,
    shuttingDown: false,
    ...overrides,
  };
}

const member = (id: string, overrides: Partial<WarmMember> = {}): WarmMember => ({
  id,
  renderer: 'csr',
  state: 'ready',
  startedAt: T0,
  ...overrides,
});

describe('decideWarmPool', () => {
  it('an empty pool with no target does nothing', () => {
    expect(decideWarmPool(input())).toEqual([]);
  });

  it('fills each renderer up to its target', () => {
    expect(decideWarmPool(input({ desired: { csr: 4, ssr: 2 } }))).toEqual([
      { kind: 'start', renderer: 'csr', count: 4 },
      { kind: 'start', renderer: 'ssr', count: 2 },
    ]);
  });

  it('counts members starting or ready and launches under way; not those on their way out', () => {
    const members = [
      member('a'),
      member('b', { state: 'starting' }),
      member('c', { state: 'terminating' }),
      member('d', { state: 'unresponsive' }),
    ];
    const actions = decideWarmPool(input({ desired: { csr: 4, ssr: 0 }, members, launching: { csr: 1, ssr: 0 } }));
    expect(actions).toEqual([{ kind: 'start', renderer: 'csr', count: 1 }, expect.objectContaining({ kind: 'wait' })]);
  });

  it('never starts more than the free slots, csr first', () => {
    expect(decideWarmPool(input({ desired: { csr: 3, ssr: 3 }, freeSlots: 4 }))).toEqual([
      { kind: 'start', renderer: 'csr', count: 3 },
      { kind: 'start', renderer: 'ssr', count: 1 },
    ]);
    expect(decideWarmPool(input({ desired: { csr: 3, ssr: 3 }, freeSlots: 0 }))).toEqual([]);
  });

  it('a full pool waits until its oldest ready member ages out', () => {
    const members = [member('a', { startedAt: T0 - 1000 }), member('b', { startedAt: T0 - 5000 })];
    expect(decideWarmPool(input({ desired: { csr: 2, ssr: 0 }, members }))).toEqual([
      { kind: 'wait', until: T0 - 5000 + AGE_MS },
    ]);
  });

  it('retires ready members that reached SC_WARM_MAX_AGE_S and starts their replacements in the same step', () => {
    const members = [member('old', { startedAt: T0 - AGE_MS }), member('young', { startedAt: T0 - 10 })];
    const actions = decideWarmPool(input({ desired: { csr: 2, ssr: 0 }, members }));
    expect(actions).toEqual([
      { kind: 'retire', id: 'old', reason: expect.stringMatching(/unclaimed for 600 s \(SC_WARM_MAX_AGE_S\)/) },
      { kind: 'start', renderer: 'csr', count: 1 },
      { kind: 'wait', until: T0 - 10 + AGE_MS },
    ]);
  });

  it('one millisecond before its age a member stays', () => {
    const members = [member('a', { startedAt: T0 - AGE_MS + 1 })];
    expect(decideWarmPool(input({ desired: { csr: 1, ssr: 0 }, members }))).toEqual([{ kind: 'wait', until: T0 + 1 }]);
  });

  it('a member still starting is never retired for age (the ready timeout rules it)', () => {
    const members = [member('slow', { state: 'starting', startedAt: T0 - 2 * AGE_MS })];
    expect(decideWarmPool(input({ desired: { csr: 1, ssr: 0 }, members }))).toEqual([]);
  });

  it('does nothing at all while shutting down, not even retirements', () => {
    const members = [member('old', { startedAt: T0 - 2 * AGE_MS })];
    expect(decideWarmPool(input({ desired: { csr: 5, ssr: 5 }, members, shuttingDown: true }))).toEqual([]);
  });

  describe('while failing', () => {
    const failingCsr = { csr: { failures: 2, retryAt: T0 + 2000, lastFailure: 'exit 6' }, ssr: { failures: 0 } };

    it('waits for the backoff to end, while the other renderer fills normally', () => {
      expect(decideWarmPool(input({ desired: { csr: 4, ssr: 1 }, backoff: failingCsr }))).toEqual([
        { kind: 'start', renderer: 'ssr', count: 1 },
        { kind: 'wait', until: T0 + 2000 },
      ]);
    });

    it('after the backoff, probes with one server at a time', () => {
      const later = input({ now: T0 + 2000, desired: { csr: 4, ssr: 0 }, backoff: failingCsr });
      expect(decideWarmPool(later)).toEqual([{ kind: 'start', renderer: 'csr', count: 1 }]);
      expect(decideWarmPool({ ...later, launching: { csr: 1, ssr: 0 } })).toEqual([]);
      expect(decideWarmPool({ ...later, members: [member('probe', { state: 'starting' })] })).toEqual([]);
    });
  });
});

describe('backoff', () => {
  it('doubles from 1 s to at most 60 s, keeping the last reason; a ready server resets it', () => {
    let backoff: WarmBackoff = { failures: 0 };
    const pauses: number[] = [];
    for (let i = 0; i < 9; i++) {
      backoff = backoffAfterFailure(backoff, T0, `failure ${i}`);
      pauses.push(backoff.retryAt! - T0);
    }
    expect(pauses).toEqual([1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000]);
    expect(WARM_BACKOFF_MAX_MS).toBe(60000);
    expect(backoff).toMatchObject({ failures: 9, lastFailure: 'failure 8' });
    expect(backoffAfterReady()).toEqual({ failures: 0 });
  });

  it('counts as failing from the third failure in a row', () => {
    const one = backoffAfterFailure({ failures: 0 }, T0, 'x');
    const two = backoffAfterFailure(one, T0, 'x');
    const three = backoffAfterFailure(two, T0, 'x');
    expect([isFailing(one), isFailing(two), isFailing(three), isFailing(backoffAfterReady())]).toEqual([
      false,
      false,
      true,
      false,
    ]);
  });
});

describe('pickWarmToRetire', () => {
  it('prefers a member still starting, then the oldest ready one; never one already leaving', () => {
    expect(pickWarmToRetire([])).toBeUndefined();
    expect(pickWarmToRetire([member('gone', { state: 'terminating' })])).toBeUndefined();
    const ready = [member('young', { startedAt: T0 }), member('old', { startedAt: T0 - 100 })];
    expect(pickWarmToRetire(ready)?.id).toBe('old');
    expect(pickWarmToRetire([...ready, member('starting', { state: 'starting', startedAt: T0 + 5 })])?.id).toBe(
      'starting',
    );
  });
});

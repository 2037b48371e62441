import {
  assertTransition,
  canTransition,
  IllegalTransitionError,
  isTerminal,
  LIVE_STATES,
  SPAWN_STATE_LABELS,
  SPAWN_STATE_RANK,
  SPAWN_STATES,
  SPAWN_TRANSITIONS,
  SpawnState,
  TERMINAL_STATES,
} from './spawn-state';

/**
 * The transition table written out independently of the source, pair by pair,
 * so a change to SPAWN_TRANSITIONS has to be made here too, on purpose.
 */
const EXPECTED_ALLOWED: ReadonlyArray<[SpawnState, SpawnState]> = [
  ['starting', 'ready'],
  ['starting', 'timed_out'],
  ['starting', 'terminating'],
  ['starting', 'failed'],
  ['ready', 'connected'],
  ['ready', 'disconnected'],
  ['ready', 'unresponsive'],
  ['ready', 'terminating'],
  ['ready', 'exited'],
  ['connected', 'ready'],
  ['connected', 'disconnected'],
  ['connected', 'unresponsive'],
  ['connected', 'terminating'],
  ['connected', 'exited'],
  ['disconnected', 'terminating'],
  ['disconnected', 'exited'],
  ['unresponsive', 'terminating'],
  ['unresponsive', 'exited'],
  ['timed_out', 'terminating'],
  ['timed_out', 'exited'],
  ['terminating', 'exited'],
];
const allowedKey = new Set(EXPECTED_ALLOWED.map(([from, to]) => `${from}->${to}`));

const ALL_PAIRS: Array<[SpawnState, SpawnState]> = SPAWN_STATES.flatMap((from) =>
  SPAWN_STATES.map((to) => [from, to] as [SpawnState, SpawnState]),
);
const FORBIDDEN = ALL_PAIRS.filter(([from, to]) => !allowedKey.has(`${from}->${to}`));

describe('spawn state machine', () => {
  it('has exactly the nine documented states', () => {
    expect([...SPAWN_STATES]).toEqual([
      'starting',
      'ready',
      'connected',
      'disconnected',
      'unresponsive',
      'timed_out',
      'terminating',
      'failed',
      'exited',
    ]);
    expect(ALL_PAIRS).toHaveLength(81);
    expect(EXPECTED_ALLOWED).toHaveLength(21);
    expect(FORBIDDEN).toHaveLength(60);
  });

  it('the table in the source equals the expected table', () => {
    const actual = SPAWN_STATES.flatMap((from) => SPAWN_TRANSITIONS[from].map((to) => `${from}->${to}`)).sort();
    expect(actual).toEqual([...allowedKey].sort());
  });

  it.each(EXPECTED_ALLOWED)('allows %s -> %s', (from, to) => {
    expect(canTransition(from, to)).toBe(true);
    expect(() => assertTransition(from, to)).not.toThrow();
  });

  it.each(FORBIDDEN)('forbids %s -> %s', (from, to) => {
    expect(canTransition(from, to)).toBe(false);
    let thrown: unknown;
    try {
      assertTransition(from, to);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(IllegalTransitionError);
    const error = thrown as IllegalTransitionError;
    expect(error.name).toBe('IllegalTransitionError');
    expect(error.from).toBe(from);
    expect(error.to).toBe(to);
    expect(error.message).toBe(`illegal spawn state transition ${from} -> ${to}`);
  });

  it('never allows a state to transition to itself', () => {
    for (const state of SPAWN_STATES) expect(canTransition(state, state)).toBe(false);
  });

  it('nothing leads back to starting', () => {
    for (const state of SPAWN_STATES) expect(canTransition(state, 'starting')).toBe(false);
  });

  it('terminal states are failed and exited, and have no exits', () => {
    expect([...TERMINAL_STATES].sort()).toEqual(['exited', 'failed']);
    for (const state of TERMINAL_STATES) {
      expect(SPAWN_TRANSITIONS[state]).toEqual([]);
      expect(isTerminal(state)).toBe(true);
      for (const to of SPAWN_STATES) expect(() => assertTransition(state, to)).toThrow(IllegalTransitionError);
    }
  });

  it('only starting can fail; every other live state ends as exited', () => {
    const intoFailed = SPAWN_STATES.filter((s) => canTransition(s, 'failed'));
    expect(intoFailed).toEqual(['starting']);
    const intoExited = SPAWN_STATES.filter((s) => canTransition(s, 'exited'));
    expect(intoExited.sort()).toEqual([
      'connected',
      'disconnected',
      'ready',
      'terminating',
      'timed_out',
      'unresponsive',
    ]);
  });

  it('every live state can be stopped (reaches terminating or is terminating)', () => {
    for (const state of LIVE_STATES) {
      if (state === 'terminating') continue;
      expect(canTransition(state, 'terminating')).toBe(true);
    }
  });

  it('live states are all non-terminal states', () => {
    expect([...LIVE_STATES]).toEqual([
      'starting',
      'ready',
      'connected',
      'disconnected',
      'unresponsive',
      'timed_out',
      'terminating',
    ]);
    for (const state of LIVE_STATES) expect(isTerminal(state)).toBe(false);
  });
});

describe('state labels and ranks', () => {
  it('every transition moves forward in rank, but a refused viewer (connected -> ready)', () => {
    for (const from of SPAWN_STATES) {
      for (const to of SPAWN_TRANSITIONS[from]) {
        if (from === 'connected' && to === 'ready') continue;
        expect({ from, to, forward: SPAWN_STATE_RANK[to] >= SPAWN_STATE_RANK[from] }).toEqual({
          from,
          to,
          forward: true,
        });
      }
    }
    expect(SPAWN_STATE_RANK.ready).toBeLessThan(SPAWN_STATE_RANK.connected);
  });

  it('labels every state in words, each a different one', () => {
    expect(Object.keys(SPAWN_STATE_LABELS).sort()).toEqual([...SPAWN_STATES].sort());
    expect(new Set(Object.values(SPAWN_STATE_LABELS)).size).toBe(SPAWN_STATES.length);
    expect(SPAWN_STATE_LABELS.timed_out).toBe('Timed out');
  });
});

// @ts-check
/*
 * The spawn states, their labels and their order, as the service defines them (GET /api/states): the page keeps
 * no copy. main.js loads them before anything is drawn.
 */

/** @typedef {{ name: string, label: string, terminal: boolean, rank: number }} SpawnState */

/** @type {Map<string, SpawnState>} */
const byName = new Map();

/**
 * Loads the states; retries until the service answers, since no card can be drawn without them.
 * @param {(problem: string) => void} onProblem
 */
export async function loadStates(onProblem) {
  for (;;) {
    try {
      const response = await fetch('api/states', { headers: { Accept: 'application/json' } });
      if (!response.ok) throw new Error(`GET /api/states answered HTTP ${response.status}`);
      const body = /** @type {{ states: SpawnState[] }} */ (await response.json());
      for (const state of body.states) byName.set(state.name, state);
      return;
    } catch (error) {
      onProblem(error instanceof Error ? error.message : String(error));
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

/** @param {string} state */
export const stateLabel = (state) => byName.get(state)?.label ?? state;
/** @param {string} state */
export const isTerminal = (state) => byName.get(state)?.terminal === true;
/** @param {string} state */
export const isLive = (state) => byName.get(state)?.terminal === false;
/** Transitions move forward in rank (but connected -> ready), so a stale view never moves a card backwards. */
/** @param {string} state */
export const stateRank = (state) => byName.get(state)?.rank ?? -1;
/** The states in which a server runs, in life order. */
export const liveStates = () => [...byName.values()].filter((s) => !s.terminal).map((s) => s.name);

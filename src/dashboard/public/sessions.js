// @ts-check
/* The session cards: adding or updating one from a view, dismissing one. What their buttons do is main.js's. */
import { insertCard, render } from './card-view.js';
import { updateCounts } from './counts.js';
import { cloneOf, timeOf, ui } from './dom.js';
import { isTerminal, stateRank } from './states.js';
import { dismissed, sessions } from './store.js';

/** @typedef {import('./store.js').Session} Session */
/** @typedef {import('./store.js').View} View */

/** Ended sessions older than this are not brought back by a reload or a resync. */
const SHOW_ENDED_FOR_MS = 10 * 60 * 1000;

/** @param {View} view @returns {Session} */
function createCard(view) {
  const el = cloneOf(ui.cardTemplate);
  el.dataset.sessionId = view.id;
  el.dataset.ws = 'none';
  el.dataset.ended = 'false';
  /** @type {Session} */
  return { view, el, ws: null, wsTried: false, wsOpened: false, hello: null, owned: false, closing: false };
}

/**
 * Adds or updates a session from a full API view; the state only ever moves forward.
 * @param {any} view
 * @param {{ owned?: boolean, evenIfEnded?: boolean }} [options]
 * @returns {Session | undefined}
 */
export function upsert(view, options = {}) {
  if (!view || typeof view.id !== 'string' || dismissed.has(view.id)) return undefined;
  // Unclaimed warm servers are capacity, not sessions: the capacity panel counts them.
  if (view.pool === 'warm' && !sessions.has(view.id)) return undefined;
  let session = sessions.get(view.id);
  if (!session) {
    if (isTerminal(view.state) && !options.evenIfEnded) {
      const endedAt = timeOf(view.endedAt);
      if (!(Date.now() - endedAt < SHOW_ENDED_FOR_MS)) return undefined;
    }
    session = createCard(view);
    sessions.set(view.id, session);
    insertCard(session);
  } else {
    const keepState = stateRank(view.state) < stateRank(session.view.state);
    session.view = { ...session.view, ...view, state: keepState ? session.view.state : view.state };
  }
  if (options.owned) session.owned = true;
  render(session);
  return session;
}

/** @param {Session} session */
export function dismiss(session) {
  dismissed.add(session.view.id);
  sessions.delete(session.view.id);
  if (session.ws) session.ws.close(1000, 'dismissed');
  session.el.remove();
  updateCounts();
}

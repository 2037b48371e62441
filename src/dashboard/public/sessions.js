// @ts-check
/* The list of session cards: adding or updating one from a view, their order, the counts, dismissing. */
import { closeSession } from './actions.js';
import { waitingForKey } from './api.js';
import { render } from './card-view.js';
import { byTestId, cloneOf, plural, timeOf, ui } from './dom.js';
import { isTerminal, stateRank } from './states.js';
import { dismissed, service, sessions } from './store.js';
import { connectViewer } from './viewer.js';

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
  const session = { view, el, ws: null, wsTried: false, wsOpened: false, hello: null, owned: false, closing: false };
  byTestId('close-button', el).addEventListener('click', () => void closeSession(session));
  byTestId('dismiss-button', el).addEventListener('click', () => dismiss(session));
  byTestId('connect-button', el).addEventListener('click', () => connectViewer(session));
  return session;
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

/** Live sessions newest first; ended ones in their own list, the latest to end first. @param {Session} session */
export function insertCard(session) {
  const ended = isTerminal(session.view.state);
  const list = ended ? ui.endedCards : ui.cards;
  /** @param {View} view */
  const timeOfCard = (view) => timeOf(ended ? view.endedAt : view.startedAt) || 0;
  const time = timeOfCard(session.view);
  const after = [...list.children].find((card) => {
    const other = sessions.get(/** @type {HTMLElement} */ (card).dataset.sessionId || '');
    return other && other !== session && timeOfCard(other.view) < time;
  });
  list.insertBefore(session.el, after || null);
  updateCounts();
}

export function updateCounts() {
  const all = [...sessions.values()];
  const ended = all.filter((s) => isTerminal(s.view.state)).length;
  const live = all.length - ended;
  ui.count.textContent = String(live);
  ui.endedCount.textContent = String(ended);
  ui.endedSection.hidden = ended === 0;
  ui.dismissEnded.hidden = ended === 0;
  ui.empty.hidden = live > 0;
  const onService = plural(service.sessions, 'live session');
  if (waitingForKey()) {
    ui.empty.textContent = service.sessions
      ? `The service has ${onService}. Enter the API key above to list ${service.sessions === 1 ? 'it' : 'them'}.`
      : 'No live sessions. Enter the API key above to list and create sessions.';
  } else if (service.sessions > 0) {
    ui.empty.textContent = `The service has ${onService}; loading…`;
  } else {
    ui.empty.textContent = 'No live sessions. Pick a renderer and press Create New Viewer.';
  }
}

/** @param {Session} session */
export function dismiss(session) {
  dismissed.add(session.view.id);
  sessions.delete(session.view.id);
  if (session.ws) session.ws.close(1000, 'dismissed');
  session.el.remove();
  updateCounts();
}

// @ts-check
/*
 * sc-spawner dashboard: plain browser JavaScript modules, no framework, no build step. This one starts the page.
 *
 * Sources of truth, in order of freshness:
 *   GET /events       server-sent state changes (primary; the page falls back to polling if it is unavailable)
 *   GET /spawns       full views, fetched on load, on (re)connect of the event stream and for sessions first seen in an event
 *   GET /health       capacity (always 200, so polling it logs no errors), refreshed after every change and every few seconds
 *   GET /api/states   the spawn states, their labels and order, loaded once before anything is drawn
 * Every URL is relative, so the page works at / and under the node prefix /n/<NODE_NAME>/ alike.
 */
import { closeSession, createViewer } from './actions.js';
import { onKey } from './api.js';
import { refreshHealth } from './capacity.js';
import { renderUptime } from './card-view.js';
import { refreshHistory } from './chart.js';
import { startCluster } from './cluster.js';
import { updateCounts } from './counts.js';
import { errorText, setLink, ui } from './dom.js';
import { showError } from './errors.js';
import { resync, restartEvents, startEvents } from './feed.js';
import { dismiss } from './sessions.js';
import { startSessionsCost } from './sessions-cost.js';
import { isTerminal, loadStates } from './states.js';
import { sessions } from './store.js';
import { connectViewer } from './viewer.js';

const HEALTH_EVERY_MS = 5000;

/**
 * The cards' buttons, by delegation on the two lists: a card is drawn without knowing what its buttons do, so the
 * modules that draw cards import nothing of the actions that change them.
 * @param {Event} event
 */
function onCardButton(event) {
  const button = event.target instanceof Element ? event.target.closest('button[data-testid]') : null;
  const card = button && button.closest('[data-session-id]');
  const session = card instanceof HTMLElement ? sessions.get(card.dataset.sessionId || '') : undefined;
  if (!session || !(button instanceof HTMLElement)) return;
  const action = button.dataset.testid;
  if (action === 'close-button') void closeSession(session);
  else if (action === 'dismiss-button') dismiss(session);
  else if (action === 'connect-button') connectViewer(session);
}

async function start() {
  await loadStates(() => setLink('offline', 'Service unreachable'));
  onKey({ changed: updateCounts, newKey: restartEvents });
  ui.form.addEventListener('submit', (event) => void createViewer(event));
  for (const list of [ui.cards, ui.endedCards]) list.addEventListener('click', onCardButton);
  ui.dismissEnded.addEventListener('click', () => {
    for (const session of [...sessions.values()]) if (isTerminal(session.view.state)) dismiss(session);
  });
  setInterval(() => {
    for (const session of sessions.values()) if (!isTerminal(session.view.state)) renderUptime(session);
  }, 1000);
  setInterval(() => void refreshHealth(), HEALTH_EVERY_MS);

  updateCounts();
  void refreshHealth();
  void refreshHistory();
  resync().catch((error) => {
    setLink('offline', 'Service unreachable');
    showError('Could not load the sessions', errorText(error));
  });
  startEvents();
  startSessionsCost();
  startCluster();
}

void start();

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
import { createViewer } from './actions.js';
import { onKey } from './api.js';
import { refreshHealth } from './capacity.js';
import { renderUptime } from './card-view.js';
import { refreshHistory } from './chart.js';
import { startCluster } from './cluster.js';
import { errorText, setLink, ui } from './dom.js';
import { showError } from './errors.js';
import { resync, restartEvents, startEvents } from './feed.js';
import { dismiss, updateCounts } from './sessions.js';
import { startSessionsCost } from './sessions-cost.js';
import { isTerminal, loadStates } from './states.js';
import { sessions } from './store.js';

const HEALTH_EVERY_MS = 5000;

async function start() {
  await loadStates(() => setLink('offline', 'Service unreachable'));
  onKey({ changed: updateCounts, newKey: restartEvents });
  ui.form.addEventListener('submit', (event) => void createViewer(event));
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

// @ts-check
/* The session counts above the lists, and what the empty list says. */
import { waitingForKey } from './api.js';
import { plural, ui } from './dom.js';
import { isTerminal } from './states.js';
import { service, sessions } from './store.js';

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

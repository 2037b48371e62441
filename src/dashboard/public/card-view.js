// @ts-check
/*
 * Draws one session's card from its view: badges, facts, uptime, how it ended, which buttons apply, its viewer's
 * status line, and its place in the live or the ended list.
 */
import { updateCounts } from './counts.js';
import { byTestId, formatClock, formatDuration, part, timeOf, ui } from './dom.js';
import { isTerminal, stateLabel } from './states.js';
import { sessions } from './store.js';

/** @typedef {import('./store.js').Session} Session */
/** @typedef {import('./store.js').View} View */

/** How each session was created (the view's `origin`). @type {Record<string, string>} */
const ORIGIN_LABEL = { api: 'API', 'hoops-api': 'HOOPS API', connect: 'On connect' };

/** @param {Session} session */
export function renderUptime(session) {
  const { view, el } = session;
  const started = timeOf(view.startedAt);
  const until = isTerminal(view.state) ? timeOf(view.endedAt) : Date.now();
  part(el, '.uptime-label').textContent = isTerminal(view.state) ? 'Lifetime' : 'Uptime';
  const node = byTestId('session-uptime', el);
  node.textContent = Number.isFinite(started) && Number.isFinite(until) ? formatDuration(until - started) : '–';
}

/** @param {Session} session */
function renderFacts(session) {
  const { view, el } = session;
  byTestId('session-renderer', el).textContent = String(view.rendererType || 'csr').toUpperCase();
  byTestId('session-warm', el).hidden = view.pool !== 'claimed';
  byTestId('session-origin', el).textContent = ORIGIN_LABEL[view.origin] || String(view.origin || '');
  const idNode = byTestId('session-id', el);
  idNode.textContent = view.id;
  idNode.title = view.id;
  byTestId('session-state', el).textContent = stateLabel(view.state);
  byTestId('session-endpoint', el).textContent = view.endpoint || '–';
  const showProxy = Boolean(view.proxyEndpoint) && view.proxyEndpoint !== view.endpoint;
  part(el, '.proxy-fact').hidden = !showProxy;
  byTestId('session-proxy', el).textContent = view.proxyEndpoint || '';
  byTestId('session-startup', el).textContent = Number.isFinite(view.startupMs) ? `${view.startupMs} ms` : '–';
  byTestId('session-pid', el).textContent = view.pid ? String(view.pid) : '–';
  byTestId('session-port', el).textContent = view.wsPort ? String(view.wsPort) : '–';
}

/** @param {Session} session */
function renderEnd(session) {
  const { view, el } = session;
  const endNode = byTestId('session-end', el);
  endNode.replaceChildren();
  const label = document.createElement('strong');
  label.textContent = view.state === 'failed' ? 'Failed: ' : 'Ended: ';
  const exit = [];
  const reason = String(view.endReason || '');
  const hasCode = view.exitCode !== null && view.exitCode !== undefined;
  if (hasCode && !reason.includes(`code ${view.exitCode}`)) exit.push(`exit code ${view.exitCode}`);
  if (view.signal && !reason.includes(view.signal)) exit.push(`signal ${view.signal}`);
  const endedAt = timeOf(view.endedAt);
  if (Number.isFinite(endedAt)) exit.push(`at ${formatClock(new Date(endedAt))}`);
  endNode.append(label, view.endReason || 'the process has exited', exit.length ? ` (${exit.join(', ')})` : '');
  if (session.ws && session.ws.readyState <= WebSocket.OPEN) session.ws.close(1000, 'session ended');
}

/** @param {Session} session */
export function render(session) {
  const { view, el } = session;
  const ended = isTerminal(view.state);
  el.dataset.state = view.state;
  el.dataset.ended = String(ended);
  renderFacts(session);
  renderUptime(session);
  byTestId('session-end', el).hidden = !ended;
  if (ended && session.el.parentNode !== ui.endedCards) insertCard(session);
  if (ended) renderEnd(session);

  const closeButton = /** @type {HTMLButtonElement} */ (byTestId('close-button', el));
  const closing = session.closing || view.state === 'terminating';
  closeButton.hidden = ended;
  closeButton.disabled = closing;
  closeButton.textContent = closing ? 'Closing…' : 'Close';
  byTestId('dismiss-button', el).hidden = !ended;
  // Attaching is offered, not automatic, for sessions this page did not create: a real viewer may be on its way.
  byTestId('connect-button', el).hidden = ended || session.ws !== null || view.state !== 'ready';
  // An ended session that this page never attached to has nothing to say about its viewer.
  byTestId('viewer', el).hidden = ended && !session.wsTried;
  if (!session.wsTried) {
    if (ended) setViewerStatus(session, 'none', 'No viewer was attached from this page');
    else if (view.state === 'connected') setViewerStatus(session, 'none', 'A viewer is attached elsewhere');
    else setViewerStatus(session, 'none', 'No viewer attached from this page');
  }
  updateCounts();
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

/** @param {Session} session @param {string} state @param {string} text */
export function setViewerStatus(session, state, text) {
  session.el.dataset.ws = state;
  byTestId('ws-status', session.el).textContent = text;
}

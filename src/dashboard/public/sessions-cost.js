// @ts-check
/*
 * sc-spawner dashboard: what each session costs. The busiest sessions (relay bytes both ways, then CPU) and
 * the idlest (longest since their viewer's last message), with memory, CPU, the key that made each one and
 * any `expiring` warning a session limit gave. Reads GET /spawns every few seconds and at once on an
 * `expiring` / `expiring_cancelled` event; uses the API key the page keeps for this tab (see api.js).
 */
import { apiKey, keyEntered, keyHeaders } from './api.js';
import { EventFeed } from './event-feed.js';
import { isLive } from './states.js';

const REFRESH_MS = 3000;
const SHOWN = 5;

/** @typedef {{ bytes: number, messages: number }} Flow */
/** @typedef {{ id: string, state: string, pool?: string, key?: string | null, watched?: boolean,
 *   relay: { toServer: Flow, toViewer: Flow }, cpuSeconds: number | null, rssBytes: number | null,
 *   lastActivityAt?: string, connectedAt?: string, claimedAt?: string, startedAt: string,
 *   expiring?: { secondsLeft: number, reason: string } | null }} CostView */

/** @returns {Record<string, string>} */
function headers() {
  const key = apiKey();
  return key ? { Accept: 'application/json', Authorization: `Bearer ${key}` } : { Accept: 'application/json' };
}

/** @param {CostView} s */
const relayBytes = (s) => s.relay.toServer.bytes + s.relay.toViewer.bytes;
/** @param {CostView} s */
const lastActive = (s) => Date.parse(s.lastActivityAt || s.connectedAt || s.claimedAt || s.startedAt);

/** @param {number | null | undefined} n */
function formatBytes(n) {
  if (n === null || n === undefined) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value >= 10 || unit === 0 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
}

/** @param {number} ms */
function formatAge(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/** @param {string} text @param {string} testId */
function cell(text, testId) {
  const td = document.createElement('td');
  td.textContent = text;
  td.dataset.testid = testId;
  return td;
}

/** @param {CostView} session @param {number} now */
function row(session, now) {
  const tr = document.createElement('tr');
  tr.dataset.testid = 'cost-row';
  tr.dataset.id = session.id;
  const { toServer, toViewer } = session.relay;
  const ending = session.expiring
    ? `ends in ${session.expiring.secondsLeft} s (${session.expiring.reason === 'idle' ? 'idle' : 'lifetime'})`
    : '';
  tr.append(
    cell(session.id.slice(0, 8), 'cost-id'),
    cell(session.key || (session.key === null ? 'anonymous' : '–'), 'cost-key'),
    cell(`${formatBytes(toServer.bytes)} ↑ ${toServer.messages} msg · ${formatBytes(toViewer.bytes)} ↓`, 'cost-relay'),
    cell(session.cpuSeconds === null ? '–' : `${session.cpuSeconds.toFixed(2)} s`, 'cost-cpu'),
    cell(formatBytes(session.rssBytes), 'cost-rss'),
    cell(session.watched ? `${formatAge(now - lastActive(session))} ago` : 'not watched', 'cost-idle'),
    cell(ending, 'cost-expiring'),
  );
  if (session.expiring) tr.classList.add('expiring');
  return tr;
}

/**
 * @param {{ busiest: Element, idlest: Element, note: Element }} ui
 * @param {CostView[]} spawns
 */
function render(ui, spawns) {
  const live = spawns.filter((s) => isLive(s.state) && s.pool !== 'warm' && s.relay);
  const now = Date.now();
  const busiest = [...live]
    .sort((a, b) => relayBytes(b) - relayBytes(a) || (b.cpuSeconds || 0) - (a.cpuSeconds || 0))
    .slice(0, SHOWN);
  const idlest = live
    .filter((s) => s.watched)
    .sort((a, b) => lastActive(a) - lastActive(b))
    .slice(0, SHOWN);
  ui.busiest.replaceChildren(...busiest.map((s) => row(s, now)));
  ui.idlest.replaceChildren(...idlest.map((s) => row(s, now)));
  const unwatched = live.filter((s) => !s.watched).length;
  ui.note.textContent =
    live.length === 0
      ? 'No live session.'
      : unwatched > 0
        ? `${unwatched} session(s) use the server's own port: the relay cannot see their activity.`
        : '';
}

/** Starts refreshing the cost panel, if the page has one. */
export function startSessionsCost() {
  const panel = document.querySelector('[data-testid="sessions-cost"]');
  const busiest = panel?.querySelector('[data-testid="busiest"]');
  const idlest = panel?.querySelector('[data-testid="idlest"]');
  const note = panel?.querySelector('[data-testid="cost-note"]');
  if (!busiest || !idlest || !note) return;
  const ui = { busiest, idlest, note };
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  let refreshing = false;
  const refresh = async () => {
    // One refresh at a time (a warning may ask for one while another waits for a key): it schedules the next.
    if (refreshing) return;
    refreshing = true;
    clearTimeout(timer);
    try {
      await keyEntered();
      const response = await fetch('spawns', { headers: headers(), cache: 'no-store' });
      if (response.ok) render(ui, await response.json());
    } catch {
      // The page's own status line says when the service is unreachable.
    } finally {
      refreshing = false;
      timer = setTimeout(() => void refresh(), REFRESH_MS);
    }
  };
  /** The warnings come as named events, which the page's own feed (message events) does not receive. */
  const listen = () => {
    const events = new EventFeed('events', keyHeaders());
    for (const name of ['expiring', 'expiring_cancelled']) events.addEventListener(name, () => void refresh());
    events.addEventListener('error', () => {
      if (events.readyState === EventFeed.CLOSED) setTimeout(() => void keyEntered().then(listen), 10_000);
    });
  };
  void refresh();
  listen();
}

// @ts-check
/*
 * Keeping the cards in step with the service: server-sent state changes (GET events) first, falling back to
 * polling GET spawns while the feed is down; full views on (re)connect and for sessions first seen in an event.
 */
import { api, keyHeaders, waitingForKey } from './api.js';
import { refreshHealth, scheduleHealth } from './capacity.js';
import { render } from './card-view.js';
import { historySoon } from './chart.js';
import { setLink } from './dom.js';
import { EventFeed } from './event-feed.js';
import { upsert } from './sessions.js';
import { isLive, isTerminal, stateRank } from './states.js';
import { dismissed, sessions } from './store.js';

const POLL_EVERY_MS = 2000;
const EVENTS_RETRY_MS = 10000;

/** @param {string} id */
async function refreshOne(id) {
  try {
    const response = await api(`spawns/${encodeURIComponent(id)}`, { headers: { Accept: 'application/json' } });
    if (response.ok) upsert(await response.json());
  } catch {
    // the next resync or event will catch up
  }
}

/** @param {any} event a state change from the feed */
function applyEvent(event) {
  if (!event || typeof event.id !== 'string' || typeof event.state !== 'string') return;
  const session = sessions.get(event.id);
  if (!session) {
    if (!dismissed.has(event.id)) scheduleResync();
    return;
  }
  const ended = isTerminal(event.state);
  // Events arrive in order: one that follows the shown state applies even when it goes back (a refused viewer: connected -> ready).
  if (event.previousState === session.view.state || stateRank(event.state) >= stateRank(session.view.state)) {
    session.view = { ...session.view, state: event.state };
    if (event.detail && ended && !session.view.endReason) session.view.endReason = event.detail;
    if (event.state === 'connected' && !session.view.connectedAt) session.view.connectedAt = event.at;
    if (ended && !session.view.endedAt) session.view.endedAt = event.at;
    render(session);
  }
  if (event.state === 'ready' || ended) historySoon();
  // The event carries the state; the full view adds the exit code, signal and reason.
  if (ended) void refreshOne(event.id);
}

async function resyncOnce() {
  const response = await api('spawns', { headers: { Accept: 'application/json' } });
  if (!response.ok) throw new Error(`GET /spawns answered HTTP ${response.status}`);
  const views = await response.json();
  const seen = new Set();
  for (const view of Array.isArray(views) ? views : []) {
    seen.add(view.id);
    upsert(view);
  }
  for (const session of sessions.values()) {
    if (!seen.has(session.view.id) && isLive(session.view.state)) {
      const endReason = session.view.endReason || 'no longer known to the service';
      session.view = { ...session.view, state: 'exited', endReason };
      render(session);
    }
  }
}

/** @type {Promise<void> | null} */
let resyncRunning = null;
let resyncAgain = false;
/** Reconciles every card with GET /spawns; concurrent calls collapse into one more run. */
export async function resync() {
  if (resyncRunning) {
    resyncAgain = true;
    return resyncRunning;
  }
  resyncRunning = (async () => {
    do {
      resyncAgain = false;
      await resyncOnce();
    } while (resyncAgain);
  })();
  try {
    await resyncRunning;
  } finally {
    resyncRunning = null;
  }
}

/** @type {ReturnType<typeof setTimeout> | null} */
let resyncTimer = null;
function scheduleResync() {
  if (resyncTimer) return;
  resyncTimer = setTimeout(() => {
    resyncTimer = null;
    resync().catch(() => undefined);
  }, 50);
}

/** @type {EventFeed | null} */
let events = null;
/** @type {ReturnType<typeof setInterval> | undefined} */
let pollTimer;
/** @type {ReturnType<typeof setTimeout> | undefined} */
let eventsRetryTimer;

/** The live feed; while it is down the page polls GET /spawns, and it retries the feed now and then. */
export function startEvents() {
  clearTimeout(eventsRetryTimer);
  // While the page waits for a key the feed would only be refused: polling until the new key restarts it.
  if (waitingForKey()) {
    startPolling();
    return;
  }
  const feed = new EventFeed('events', keyHeaders());
  events = feed;
  feed.addEventListener('open', () => {
    stopPolling();
    setLink('live', 'Live');
    resync().catch(() => undefined);
    scheduleHealth();
  });
  feed.addEventListener('message', (message) => {
    let event;
    try {
      event = JSON.parse(/** @type {MessageEvent} */ (message).data);
    } catch {
      return;
    }
    applyEvent(event);
    scheduleHealth();
  });
  feed.addEventListener('error', () => {
    startPolling();
    if (feed.readyState === EventFeed.CLOSED) {
      // Not an event stream (e.g. an older service without /events): poll, and try the feed again later.
      feed.close();
      if (events === feed) events = null;
      eventsRetryTimer = setTimeout(startEvents, EVENTS_RETRY_MS);
    } else {
      setLink('reconnecting', 'Reconnecting…');
    }
  });
}

/** After a new key: the feed again at once, with the key. */
export function restartEvents() {
  if (events) events.close();
  events = null;
  startEvents();
  scheduleResync();
}

function startPolling() {
  if (pollTimer) return;
  const poll = async () => {
    try {
      await resync();
      if (!events || events.readyState !== EventFeed.OPEN) setLink('polling', 'Polling');
    } catch {
      setLink('offline', 'Service unreachable');
    }
    await refreshHealth();
  };
  pollTimer = setInterval(poll, POLL_EVERY_MS);
  void poll();
}

function stopPolling() {
  clearInterval(pollTimer);
  pollTimer = undefined;
}

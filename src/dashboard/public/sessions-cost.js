/*
 * sc-spawner dashboard: what each session costs. The busiest sessions (relay bytes both ways, then CPU) and
 * the idlest (longest since their viewer's last message), with memory, CPU, the key that made each one and
 * any `expiring` warning a session limit gave. Reads GET /spawns every few seconds and at once on an
 * `expiring` / `expiring_cancelled` event; uses the API key the page keeps for this tab (see app.js).
 */
(() => {
  'use strict';

  const KEY_STORAGE = 'sc-spawner.api-key';
  const REFRESH_MS = 3000;
  const SHOWN = 5;
  const LIVE = new Set(['starting', 'ready', 'connected', 'disconnected', 'terminating']);

  const panel = document.querySelector('[data-testid="sessions-cost"]');
  if (!panel) return;
  const busiestBody = panel.querySelector('[data-testid="busiest"]');
  const idlestBody = panel.querySelector('[data-testid="idlest"]');
  const note = panel.querySelector('[data-testid="cost-note"]');

  function apiKey() {
    try {
      return sessionStorage.getItem(KEY_STORAGE) || '';
    } catch {
      return '';
    }
  }

  function headers() {
    const key = apiKey();
    return key ? { Accept: 'application/json', Authorization: `Bearer ${key}` } : { Accept: 'application/json' };
  }

  const relayBytes = (s) => s.relay.toServer.bytes + s.relay.toViewer.bytes;
  const lastActive = (s) => Date.parse(s.lastActivityAt || s.connectedAt || s.claimedAt || s.startedAt);

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

  function formatAge(ms) {
    const s = Math.max(0, Math.round(ms / 1000));
    if (s < 60) return `${s} s`;
    if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
    return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  }

  function cell(text, testId) {
    const td = document.createElement('td');
    td.textContent = text;
    if (testId) td.dataset.testid = testId;
    return td;
  }

  function row(session, now) {
    const tr = document.createElement('tr');
    tr.dataset.testid = 'cost-row';
    tr.dataset.id = session.id;
    tr.append(
      cell(session.id.slice(0, 8), 'cost-id'),
      cell(session.key || (session.key === null ? 'anonymous' : '–'), 'cost-key'),
      cell(
        `${formatBytes(session.relay.toServer.bytes)} ↑ ${session.relay.toServer.messages} msg · ${formatBytes(session.relay.toViewer.bytes)} ↓`,
        'cost-relay',
      ),
      cell(session.cpuSeconds === null ? '–' : `${session.cpuSeconds.toFixed(2)} s`, 'cost-cpu'),
      cell(formatBytes(session.rssBytes), 'cost-rss'),
      cell(session.watched ? `${formatAge(now - lastActive(session))} ago` : 'not watched', 'cost-idle'),
      cell(
        session.expiring
          ? `ends in ${session.expiring.secondsLeft} s (${session.expiring.reason === 'idle' ? 'idle' : 'lifetime'})`
          : '',
        'cost-expiring',
      ),
    );
    if (session.expiring) tr.classList.add('expiring');
    return tr;
  }

  function fill(body, sessions, now) {
    body.replaceChildren(...sessions.map((s) => row(s, now)));
  }

  function render(spawns) {
    const live = spawns.filter((s) => LIVE.has(s.state) && s.pool !== 'warm' && s.relay);
    const now = Date.now();
    const busiest = [...live]
      .sort((a, b) => relayBytes(b) - relayBytes(a) || (b.cpuSeconds || 0) - (a.cpuSeconds || 0))
      .slice(0, SHOWN);
    const idlest = live
      .filter((s) => s.watched)
      .sort((a, b) => lastActive(a) - lastActive(b))
      .slice(0, SHOWN);
    fill(busiestBody, busiest, now);
    fill(idlestBody, idlest, now);
    const unwatched = live.filter((s) => !s.watched).length;
    note.textContent =
      live.length === 0
        ? 'No live session.'
        : unwatched > 0
          ? `${unwatched} session(s) use the server's own port: the relay cannot see their activity.`
          : '';
  }

  let timer = null;
  async function refresh() {
    clearTimeout(timer);
    try {
      const response = await fetch('spawns', { headers: headers(), cache: 'no-store' });
      if (response.ok) render(await response.json());
    } catch {
      // The page's own status line says when the service is unreachable.
    } finally {
      timer = setTimeout(refresh, REFRESH_MS);
    }
  }

  /** The warnings come as named events, which the page's own feed (message events) does not receive. */
  function listen() {
    if (!('EventSource' in window)) return;
    const key = apiKey();
    const events = new EventSource(key ? `events?access_token=${encodeURIComponent(key)}` : 'events');
    for (const name of ['expiring', 'expiring_cancelled']) events.addEventListener(name, () => void refresh());
    events.addEventListener('error', () => {
      if (events.readyState === EventSource.CLOSED) setTimeout(listen, 10_000);
    });
  }

  void refresh();
  listen();
})();

/*
 * sc-spawner dashboard: plain browser JavaScript, no framework, no build step.
 *
 * Sources of truth, in order of freshness:
 *   GET /events       server-sent state changes (primary; the page falls back to polling if it is unavailable)
 *   GET /spawns       full views, fetched on load, on (re)connect of the event stream and for sessions first seen in an event
 *   GET /health       capacity (always 200, so polling it logs no errors), refreshed after every change and every few seconds
 * Every URL is relative, so the page works at / and under the node prefix /n/<NODE_NAME>/ alike.
 * With API keys on the service, the page asks for one on the first 401, keeps it for this tab (sessionStorage),
 * and sends it as a Bearer token (and as ?access_token= on its EventSource, which cannot send headers).
 * Server data only ever reaches the page through textContent and attributes, never as markup.
 */
'use strict';

(() => {
  const LIVE_STATES = ['starting', 'ready', 'connected', 'disconnected', 'unresponsive', 'timed_out', 'terminating'];
  const TERMINAL_STATES = ['failed', 'exited'];
  /** Transitions move forward in this order (but connected -> ready), so a stale view can never move a card backwards. */
  const STATE_RANK = {
    starting: 0,
    ready: 1,
    connected: 2,
    disconnected: 3,
    unresponsive: 3,
    timed_out: 3,
    terminating: 4,
    failed: 5,
    exited: 5,
  };
  const STATE_LABEL = {
    starting: 'Starting',
    ready: 'Ready',
    connected: 'Connected',
    disconnected: 'Disconnected',
    unresponsive: 'Unresponsive',
    timed_out: 'Timed out',
    terminating: 'Terminating',
    failed: 'Failed',
    exited: 'Exited',
  };
  /** How each session was created (the view's `origin`). */
  const ORIGIN_LABEL = { api: 'API', 'hoops-api': 'HOOPS API', connect: 'On connect' };
  /** Ended sessions older than this are not brought back by a reload or a resync. */
  const SHOW_ENDED_FOR_MS = 10 * 60 * 1000;
  const HEALTH_EVERY_MS = 5000;
  const POLL_EVERY_MS = 2000;
  const EVENTS_RETRY_MS = 10000;
  const MAX_ERRORS = 6;

  const byTestId = (id, root = document) => root.querySelector(`[data-testid="${id}"]`);
  const ui = {
    form: byTestId('create-form'),
    createButton: byTestId('create-button'),
    modelInput: byTestId('model-input'),
    pending: byTestId('pending'),
    linkStatus: byTestId('link-status'),
    readiness: byTestId('readiness'),
    readinessReason: byTestId('readiness-reason'),
    capacityText: byTestId('capacity-text'),
    capacityBar: byTestId('capacity-bar'),
    warmFigure: byTestId('warm-figure'),
    warmCount: byTestId('warm-count'),
    freePorts: byTestId('free-ports'),
    stateSummary: byTestId('state-summary'),
    errors: byTestId('errors'),
    cards: byTestId('cards'),
    endedSection: byTestId('ended-section'),
    endedCards: byTestId('ended-cards'),
    endedCount: byTestId('ended-count'),
    empty: byTestId('empty-state'),
    count: byTestId('session-count'),
    dismissEnded: byTestId('dismiss-ended'),
    createBlocked: byTestId('create-blocked'),
    keyForm: byTestId('key-form'),
    keyInput: byTestId('key-input'),
    keyMessage: byTestId('key-message'),
    chart: byTestId('chart'),
    chartSessionsMax: byTestId('chart-sessions-max'),
    chartStartupMax: byTestId('chart-startup-max'),
    chartRefusals: byTestId('chart-refusals-total'),
    cardTemplate: document.getElementById('card-template'),
    errorTemplate: document.getElementById('error-template'),
  };

  /** id -> { view, el, ws, wsOpened, hello, owned } */
  const sessions = new Map();
  /** Ids the operator dismissed; resyncs do not bring them back. */
  const dismissed = new Set();
  let pendingCreates = 0;

  // ---------------------------------------------------------------- API key

  const KEY_STORAGE = 'sc-spawner.api-key';
  let apiKey = sessionStorage.getItem(KEY_STORAGE) || '';
  let keyWaiters = [];

  /** Shows the key form and resolves once the operator has entered a key. */
  function askForKey(message) {
    if (message) ui.keyMessage.textContent = message;
    if (ui.keyForm.hidden) {
      ui.keyForm.hidden = false;
      ui.keyInput.focus();
    }
    setLink('offline', 'API key needed');
    const waiting = new Promise((resolve) => keyWaiters.push(resolve));
    updateCounts();
    return waiting;
  }

  ui.keyForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const key = ui.keyInput.value.trim();
    if (!key) return;
    apiKey = key;
    sessionStorage.setItem(KEY_STORAGE, key);
    ui.keyInput.value = '';
    ui.keyForm.hidden = true;
    const waiters = keyWaiters;
    keyWaiters = [];
    for (const resolve of waiters) resolve();
    updateCounts();
    restartEvents();
  });

  /** fetch() with the key; a 401 asks for a (new) key and tries again. */
  async function api(path, options = {}) {
    for (;;) {
      const headers = { ...(options.headers || {}) };
      const used = apiKey;
      if (used) headers.Authorization = `Bearer ${used}`;
      const response = await fetch(path, { ...options, headers });
      if (response.status !== 401) return response;
      if (used) {
        if (apiKey === used) {
          apiKey = '';
          sessionStorage.removeItem(KEY_STORAGE);
        }
        await askForKey('That key was refused. Enter a valid API key.');
      } else if (!apiKey) {
        // Several requests may be refused at once: the form already asking keeps what it says.
        await askForKey(ui.keyForm.hidden ? 'This service needs an API key (API_KEYS). Enter one to continue.' : '');
      }
    }
  }

  const isTerminal = (state) => TERMINAL_STATES.includes(state);
  const isLive = (state) => LIVE_STATES.includes(state);

  // ---------------------------------------------------------------- formatting

  function formatDuration(ms) {
    if (!Number.isFinite(ms) || ms < 0) ms = 0;
    const total = Math.floor(ms / 1000);
    const h = Math.floor(total / 3600);
    const m = Math.floor((total % 3600) / 60);
    const s = total % 60;
    if (h > 0) return `${h}h ${String(m).padStart(2, '0')}m ${String(s).padStart(2, '0')}s`;
    if (m > 0) return `${m}m ${String(s).padStart(2, '0')}s`;
    return `${s}s`;
  }

  function formatClock(date) {
    return date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
  }

  const timeOf = (iso) => (iso ? Date.parse(iso) : NaN);

  function messageOf(body, fallback) {
    if (body && typeof body === 'object') {
      const { message } = body;
      if (Array.isArray(message)) return message.map(String).join('; ');
      if (typeof message === 'string' && message) return message;
      if (typeof body.reason === 'string') return body.reason;
      if (typeof body.error === 'string') return body.error;
    }
    return fallback;
  }

  // ---------------------------------------------------------------- errors

  /** Shows a readable message that stays until dismissed (the newest first, at most MAX_ERRORS). */
  function showError(title, detail, options = {}) {
    const node = ui.errorTemplate.content.firstElementChild.cloneNode(true);
    byTestId('error-title', node).textContent = title;
    byTestId('error-detail', node).textContent = detail || '';
    if (options.status) node.dataset.status = String(options.status);
    if (options.kind) node.dataset.kind = options.kind;
    const time = node.querySelector('.alert-time');
    const now = new Date();
    time.dateTime = now.toISOString();
    time.textContent = formatClock(now);
    byTestId('error-dismiss', node).addEventListener('click', () => node.remove());
    ui.errors.prepend(node);
    while (ui.errors.children.length > MAX_ERRORS) ui.errors.lastElementChild.remove();
  }

  /** Turns a failed API answer into a title and a sentence an operator can act on. */
  /** A later action that worked makes the earlier failures history. */
  function clearErrors() {
    ui.errors.replaceChildren();
  }

  function describeFailure(action, response, body) {
    const status = response.status;
    const message = messageOf(body, response.statusText || 'no details');
    const retryAfter = response.headers.get('Retry-After');
    const retry = retryAfter && /^\d+$/.test(retryAfter) ? ` Try again in ${retryAfter} s.` : '';
    const known = {
      400: 'the request was rejected',
      403: 'this rendering mode is disabled on the server',
      404: 'no such session',
      409: 'the session was stopped before it was ready',
      500: 'the service hit an internal error',
      502: 'the Stream Cache Server failed to start',
      503: 'no capacity for another viewer',
      504: 'the Stream Cache Server did not become ready in time',
    };
    const what = known[status] || (body && typeof body.error === 'string' ? body.error : 'unexpected answer');
    const detail = `${message.charAt(0).toUpperCase()}${message.slice(1)}${/[.!?]$/.test(message) ? '' : '.'}${retry}`;
    return { title: `${action} failed: ${what} (HTTP ${status})`, detail };
  }

  async function readJson(response) {
    const text = await response.text();
    if (!text) return undefined;
    try {
      return JSON.parse(text);
    } catch {
      return { message: text.slice(0, 300) };
    }
  }

  // ---------------------------------------------------------------- cards

  function createCard(view) {
    const el = ui.cardTemplate.content.firstElementChild.cloneNode(true);
    el.dataset.sessionId = view.id;
    el.dataset.ws = 'none';
    el.dataset.ended = 'false';
    const session = { view, el, ws: null, wsTried: false, wsOpened: false, hello: null, owned: false, closing: false };
    byTestId('close-button', el).addEventListener('click', () => closeSession(session));
    byTestId('dismiss-button', el).addEventListener('click', () => dismiss(session));
    byTestId('connect-button', el).addEventListener('click', () => connectViewer(session));
    return session;
  }

  /** Adds or updates a session from a full API view; the state only ever moves forward. */
  function upsert(view, options = {}) {
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
      const keepState = STATE_RANK[view.state] < STATE_RANK[session.view.state];
      session.view = { ...session.view, ...view, state: keepState ? session.view.state : view.state };
    }
    if (options.owned) session.owned = true;
    render(session);
    return session;
  }

  /** Live sessions newest first; ended ones in their own list, the latest to end first. */
  function insertCard(session) {
    const ended = isTerminal(session.view.state);
    const list = ended ? ui.endedCards : ui.cards;
    const timeOfCard = (view) => timeOf(ended ? view.endedAt : view.startedAt) || 0;
    const time = timeOfCard(session.view);
    const after = [...list.children].find((card) => {
      const other = sessions.get(card.dataset.sessionId);
      return other && other !== session && timeOfCard(other.view) < time;
    });
    list.insertBefore(session.el, after || null);
    updateCounts();
  }

  function applyEvent(event) {
    if (!event || typeof event.id !== 'string' || typeof event.state !== 'string') return;
    const session = sessions.get(event.id);
    if (!session) {
      if (!dismissed.has(event.id)) scheduleResync();
      return;
    }
    // Events arrive in order: one that follows the shown state applies even when it goes back (a refused viewer: connected -> ready).
    if (event.previousState === session.view.state || STATE_RANK[event.state] >= STATE_RANK[session.view.state]) {
      session.view = { ...session.view, state: event.state };
      if (event.detail && isTerminal(event.state) && !session.view.endReason) session.view.endReason = event.detail;
      if (event.state === 'connected' && !session.view.connectedAt) session.view.connectedAt = event.at;
      if (isTerminal(event.state) && !session.view.endedAt) session.view.endedAt = event.at;
      render(session);
    }
    if (event.state === 'ready' || isTerminal(event.state)) historySoon();
    // The event carries the state; the full view adds the exit code, signal and reason.
    if (isTerminal(event.state)) void refreshOne(event.id);
  }

  function render(session) {
    const { view, el } = session;
    const ended = isTerminal(view.state);
    el.dataset.state = view.state;
    el.dataset.ended = String(ended);
    byTestId('session-renderer', el).textContent = String(view.rendererType || 'csr').toUpperCase();
    byTestId('session-warm', el).hidden = view.pool !== 'claimed';
    byTestId('session-origin', el).textContent = ORIGIN_LABEL[view.origin] || String(view.origin || '');
    const idNode = byTestId('session-id', el);
    idNode.textContent = view.id;
    idNode.title = view.id;
    byTestId('session-state', el).textContent = STATE_LABEL[view.state] || view.state;
    byTestId('session-endpoint', el).textContent = view.endpoint || '–';
    const showProxy = Boolean(view.proxyEndpoint) && view.proxyEndpoint !== view.endpoint;
    el.querySelector('.proxy-fact').hidden = !showProxy;
    byTestId('session-proxy', el).textContent = view.proxyEndpoint || '';
    byTestId('session-startup', el).textContent = Number.isFinite(view.startupMs) ? `${view.startupMs} ms` : '–';
    byTestId('session-pid', el).textContent = view.pid ? String(view.pid) : '–';
    byTestId('session-port', el).textContent = view.wsPort ? String(view.wsPort) : '–';
    renderUptime(session);

    const endNode = byTestId('session-end', el);
    endNode.hidden = !ended;
    if (ended && session.el.parentNode !== ui.endedCards) insertCard(session);
    if (ended) {
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

    const closeButton = byTestId('close-button', el);
    closeButton.hidden = ended;
    closeButton.disabled = session.closing || view.state === 'terminating';
    closeButton.textContent = session.closing || view.state === 'terminating' ? 'Closing…' : 'Close';
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

  function renderUptime(session) {
    const { view, el } = session;
    const started = timeOf(view.startedAt);
    const until = isTerminal(view.state) ? timeOf(view.endedAt) : Date.now();
    el.querySelector('.uptime-label').textContent = isTerminal(view.state) ? 'Lifetime' : 'Uptime';
    const node = byTestId('session-uptime', el);
    node.textContent = Number.isFinite(started) && Number.isFinite(until) ? formatDuration(until - started) : '–';
  }

  /** Sessions live on the service as the capacity panel last saw them (warm servers are capacity, not sessions). */
  let serviceSessions = 0;

  function updateCounts() {
    const all = [...sessions.values()];
    const ended = all.filter((s) => isTerminal(s.view.state)).length;
    const live = all.length - ended;
    ui.count.textContent = String(live);
    ui.endedCount.textContent = String(ended);
    ui.endedSection.hidden = ended === 0;
    ui.dismissEnded.hidden = ended === 0;
    ui.empty.hidden = live > 0;
    const onService = plural(serviceSessions, 'live session');
    if (keyWaiters.length > 0) {
      ui.empty.textContent = serviceSessions
        ? `The service has ${onService}. Enter the API key above to list ${serviceSessions === 1 ? 'it' : 'them'}.`
        : 'No live sessions. Enter the API key above to list and create sessions.';
    } else if (serviceSessions > 0) {
      ui.empty.textContent = `The service has ${onService}; loading…`;
    } else {
      ui.empty.textContent = 'No live sessions. Pick a renderer and press Create New Viewer.';
    }
  }

  function dismiss(session) {
    dismissed.add(session.view.id);
    sessions.delete(session.view.id);
    if (session.ws) session.ws.close(1000, 'dismissed');
    session.el.remove();
    updateCounts();
  }

  // ---------------------------------------------------------------- viewer WebSocket (through the proxy)

  function setViewerStatus(session, state, text) {
    session.el.dataset.ws = state;
    byTestId('ws-status', session.el).textContent = text;
  }

  function renderHello(session) {
    const { hello, el } = session;
    const box = byTestId('session-hello', el);
    box.hidden = !hello;
    if (!hello) return;
    const model = byTestId('hello-model', el);
    model.replaceChildren();
    const note = document.createElement('span');
    if (hello.model === null || hello.model === undefined || hello.model === '') {
      note.className = 'none';
      note.textContent = 'not set';
      model.append(note);
    } else {
      note.className = hello.modelFound ? 'found' : 'missing';
      note.textContent = hello.modelFound ? ' ✓' : ' (not found)';
      note.title = hello.modelFound
        ? 'found in the model search directories'
        : 'not found in the model search directories';
      model.append(String(hello.model), note);
    }
    byTestId('hello-renderer', el).textContent = String(hello.rendererType ?? '–').toUpperCase();
    byTestId('hello-token', el).textContent = hello.sessionToken ? 'required' : 'none';
    box.title = JSON.stringify(hello);
  }

  function connectViewer(session) {
    const { view } = session;
    // links.ws reaches this node under its prefix, through a balancer too; proxyEndpoint may be balanced elsewhere.
    const url = (view.links && view.links.ws) || view.proxyEndpoint;
    if (session.ws || isTerminal(view.state) || !url) return;
    let ws;
    try {
      ws = new WebSocket(url);
    } catch (error) {
      setViewerStatus(session, 'error', `Cannot open ${url}: ${error.message}`);
      return;
    }
    ws.binaryType = 'arraybuffer';
    session.ws = ws;
    session.wsTried = true;
    session.wsOpened = false;
    setViewerStatus(session, 'connecting', 'Connecting viewer…');
    render(session);
    ws.addEventListener('open', () => {
      session.wsOpened = true;
      setViewerStatus(session, 'connected', 'Viewer connected · waiting for hello');
    });
    ws.addEventListener('message', (message) => {
      if (typeof message.data !== 'string') return;
      let data;
      try {
        data = JSON.parse(message.data);
      } catch {
        return;
      }
      if (data && data.type === 'hello') {
        session.hello = data;
        renderHello(session);
        setViewerStatus(session, 'connected', 'Viewer connected · hello received');
      }
    });
    ws.addEventListener('close', (event) => {
      if (session.ws !== ws) return;
      session.ws = null;
      const why = `code ${event.code}${event.reason ? `, ${event.reason}` : ''}`;
      if (session.wsOpened) {
        setViewerStatus(session, 'closed', `Viewer closed (${why})`);
      } else {
        setViewerStatus(
          session,
          'error',
          `Viewer could not connect (${why}): the session may be gone or already have a viewer`,
        );
      }
      render(session);
    });
  }

  // ---------------------------------------------------------------- actions

  async function createViewer(event) {
    event.preventDefault();
    const rendererType = new FormData(ui.form).get('rendererType') === 'ssr' ? 'ssr' : 'csr';
    const model = ui.modelInput.value.trim();
    const body = model ? { rendererType, model } : { rendererType };
    pendingCreates++;
    renderPending();
    try {
      const response = await api('spawn', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify(body),
      });
      const data = await readJson(response);
      if (!response.ok) {
        const { title, detail } = describeFailure('Create New Viewer', response, data);
        showError(title, detail, { status: response.status, kind: response.status === 503 ? 'warning' : undefined });
        return;
      }
      clearErrors();
      const session = upsert(data, { owned: true, evenIfEnded: true });
      if (session) connectViewer(session);
    } catch (error) {
      showError(
        'Create New Viewer failed: the service could not be reached',
        String(error && error.message ? error.message : error),
      );
    } finally {
      pendingCreates--;
      renderPending();
      scheduleHealth();
    }
  }

  function renderPending() {
    ui.pending.hidden = pendingCreates === 0;
    ui.pending.querySelector('.pending-text').textContent =
      pendingCreates === 1 ? 'Starting a Stream Cache Server…' : `Starting ${pendingCreates} Stream Cache Servers…`;
  }

  async function closeSession(session) {
    if (session.closing) return;
    session.closing = true;
    render(session);
    try {
      const response = await api(`spawns/${encodeURIComponent(session.view.id)}`, {
        method: 'DELETE',
        headers: { Accept: 'application/json' },
      });
      const data = await readJson(response);
      if (!response.ok) {
        const { title, detail } = describeFailure(`Closing ${session.view.id.slice(0, 8)}`, response, data);
        showError(title, detail, { status: response.status });
        session.closing = false;
        if (response.status === 404) {
          session.view = {
            ...session.view,
            state: 'exited',
            endReason: session.view.endReason || 'no longer known to the service',
          };
        }
        render(session);
        return;
      }
      clearErrors();
      upsert(data);
    } catch (error) {
      session.closing = false;
      render(session);
      showError(
        'Close failed: the service could not be reached',
        String(error && error.message ? error.message : error),
      );
    } finally {
      scheduleHealth();
    }
  }

  // ---------------------------------------------------------------- data from the service

  async function refreshOne(id) {
    try {
      const response = await api(`spawns/${encodeURIComponent(id)}`, { headers: { Accept: 'application/json' } });
      if (response.ok) upsert(await response.json());
    } catch {
      // the next resync or event will catch up
    }
  }

  let resyncRunning = null;
  let resyncAgain = false;
  /** Reconciles every card with GET /spawns; concurrent calls collapse into one more run. */
  async function resync() {
    if (resyncRunning) {
      resyncAgain = true;
      return resyncRunning;
    }
    resyncRunning = (async () => {
      do {
        resyncAgain = false;
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
            session.view = {
              ...session.view,
              state: 'exited',
              endReason: session.view.endReason || 'no longer known to the service',
            };
            render(session);
          }
        }
      } while (resyncAgain);
    })();
    try {
      await resyncRunning;
    } finally {
      resyncRunning = null;
    }
  }

  let resyncTimer = null;
  function scheduleResync() {
    if (resyncTimer) return;
    resyncTimer = setTimeout(() => {
      resyncTimer = null;
      resync().catch(() => undefined);
    }, 50);
  }

  function setLink(state, text) {
    ui.linkStatus.dataset.link = state;
    ui.linkStatus.querySelector('.link-text').textContent = text;
  }

  let events = null;
  let pollTimer = null;
  let eventsRetryTimer = null;

  /** The live feed; while it is down the page polls GET /spawns, and it retries the feed now and then. */
  function startEvents() {
    clearTimeout(eventsRetryTimer);
    if (!('EventSource' in window)) {
      startPolling();
      return;
    }
    events = new EventSource(apiKey ? `events?access_token=${encodeURIComponent(apiKey)}` : 'events');
    events.addEventListener('open', () => {
      stopPolling();
      setLink('live', 'Live');
      resync().catch(() => undefined);
      scheduleHealth();
    });
    events.addEventListener('message', (message) => {
      let event;
      try {
        event = JSON.parse(message.data);
      } catch {
        return;
      }
      applyEvent(event);
      scheduleHealth();
    });
    events.addEventListener('error', () => {
      startPolling();
      if (events.readyState === EventSource.CLOSED) {
        // Not an event stream (e.g. an older service without /events): poll, and try the feed again later.
        events.close();
        events = null;
        eventsRetryTimer = setTimeout(startEvents, EVENTS_RETRY_MS);
      } else {
        setLink('reconnecting', 'Reconnecting…');
      }
    });
  }

  /** After a new key: the feed again at once, with the key. */
  function restartEvents() {
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
        if (!events || events.readyState !== EventSource.OPEN) setLink('polling', 'Polling');
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
    pollTimer = null;
  }

  // ---------------------------------------------------------------- capacity and readiness

  let healthTimer = null;
  function scheduleHealth() {
    if (healthTimer) return;
    healthTimer = setTimeout(() => {
      healthTimer = null;
      void refreshHealth();
    }, 150);
  }

  /** Capacity from GET /health (always 200 while the service runs; /health/ready answers 503 at capacity). */
  async function refreshHealth() {
    let response;
    let body;
    try {
      response = await fetch('health', { headers: { Accept: 'application/json' } });
      body = await readJson(response);
    } catch (error) {
      renderReadiness(
        'error',
        'Unreachable',
        `The service did not answer: ${error && error.message ? error.message : error}`,
      );
      setCreateBlocked('the service did not answer');
      return;
    }
    const spawner = (body && ((body.details && body.details.spawner) || (body.info && body.info.spawner))) || undefined;
    if (!response.ok || !spawner) {
      renderReadiness('error', 'Unknown', `GET /health answered HTTP ${response.status}`);
      setCreateBlocked('');
      return;
    }
    const active = Number(spawner.activeSpawns) || 0;
    const max = Number(spawner.maxSpawns) || 0;
    const freePorts = Number(spawner.freePorts) || 0;
    ui.capacityText.textContent = `${active} / ${max}`;
    const percent = max > 0 ? Math.min(100, Math.round((active / max) * 100)) : 0;
    ui.capacityBar.querySelector('.capacity-fill').style.width = `${percent}%`;
    ui.capacityBar.dataset.level = active >= max ? 'full' : percent >= 75 ? 'high' : 'ok';
    ui.capacityBar.setAttribute('aria-valuemax', String(max));
    ui.capacityBar.setAttribute('aria-valuenow', String(active));
    ui.freePorts.textContent = Number.isFinite(Number(spawner.freePorts)) ? plural(freePorts, 'free port') : '–';
    renderWarm(spawner.warm);
    serviceSessions = Math.max(0, active - warmServers(spawner.warm));
    updateCounts();
    const states = spawner.states && typeof spawner.states === 'object' ? spawner.states : {};
    ui.stateSummary.textContent = LIVE_STATES.filter((s) => Number(states[s]) > 0)
      .map((s) => `${states[s]} ${STATE_LABEL[s].toLowerCase()}`)
      .join(' · ');
    const reason =
      active >= max ? `at capacity: all ${max} spawn slots in use` : freePorts === 0 ? 'no free WebSocket port' : '';
    if (!reason) renderReadiness('true', 'Accepting viewers', '');
    else renderReadiness('false', 'Not accepting', `Not accepting new viewers: ${reason}`);
    setCreateBlocked(reason);
  }

  /** "Create New Viewer" is off while the service would refuse it, with the reason beside it. */
  function setCreateBlocked(reason) {
    ui.createButton.disabled = Boolean(reason);
    ui.createBlocked.hidden = !reason;
    ui.createBlocked.textContent = reason ? `Unavailable: ${reason}` : '';
  }

  // ---------------------------------------------------------------- history chart (the last hour, from the service)

  const HISTORY_EVERY_MS = 15000;
  const SVG_NS = 'http://www.w3.org/2000/svg';
  const CHART = { width: 960, height: 240, left: 44, right: 60, top: 26, bottom: 30 };
  let historyTimer = null;

  /** A round axis maximum (1, 2, 5 x 10^n per tick) at or above `value`, and its tick step; whole steps for counts. */
  function niceScale(value, ticks = 4, whole = false) {
    const raw = Math.max(whole ? 1 : 0.001, value / ticks);
    const magnitude = 10 ** Math.floor(Math.log10(raw));
    const step = Math.max(
      whole ? 1 : 0,
      [1, 2, 5, 10].map((m) => m * magnitude).find((m) => m >= raw),
    );
    return { max: step * Math.max(1, Math.ceil(value / step)), step };
  }

  function svg(name, attributes, text) {
    const node = document.createElementNS(SVG_NS, name);
    for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  /** One history refresh shortly after a burst of changes. */
  function historySoon() {
    clearTimeout(historyTimer);
    historyTimer = setTimeout(() => void refreshHistory(), 1000);
  }

  async function refreshHistory() {
    clearTimeout(historyTimer);
    historyTimer = setTimeout(() => void refreshHistory(), HISTORY_EVERY_MS);
    try {
      const response = await api('api/history');
      if (response.ok) drawChart(await response.json());
    } catch {
      // The health panel already says when the service is unreachable.
    }
  }

  /** Sessions live (line) and refusals (bars) on the left axis, start-up p50 (dots) and p90 (ticks) on the right. */
  function drawChart(history) {
    const minutes = Array.isArray(history && history.minutes) ? history.minutes : [];
    const windowMinutes = Number(history && history.windowMinutes) || 60;
    const { width, height, left, right, top, bottom } = CHART;
    const plotWidth = width - left - right;
    const plotHeight = height - top - bottom;
    const end = Date.now();
    const start = end - windowMinutes * 60000;
    const x = (at) => left + Math.max(0, Math.min(1, (at - start) / (end - start))) * plotWidth;
    const refusalsOf = (m) => Object.values(m.rejections || {}).reduce((sum, n) => sum + (Number(n) || 0), 0);
    const counts = niceScale(Math.max(...minutes.map((m) => Math.max(m.sessionsLive, refusalsOf(m))), 1), 4, true);
    const startups = minutes.filter((m) => m.startupMs);
    const times = niceScale(Math.max(...startups.map((m) => m.startupMs.p90), 100));
    const yCount = (v) => top + plotHeight - (v / counts.max) * plotHeight;
    const yMs = (v) => top + plotHeight - (v / times.max) * plotHeight;
    const nodes = [];

    for (let v = 0; v <= counts.max; v += counts.step) {
      nodes.push(svg('line', { class: 'grid', x1: left, x2: left + plotWidth, y1: yCount(v), y2: yCount(v) }));
      nodes.push(svg('text', { class: 'axis-label', x: left - 6, y: yCount(v) + 4, 'text-anchor': 'end' }, String(v)));
    }
    for (let v = 0; v <= times.max; v += times.step) {
      const label = v >= 1000 ? `${v / 1000} s` : `${v} ms`;
      nodes.push(svg('text', { class: 'axis-label', x: left + plotWidth + 6, y: yMs(v) + 4 }, label));
    }
    for (let ago = windowMinutes; ago >= 0; ago -= 15) {
      const at = end - ago * 60000;
      const label = ago === 0 ? 'now' : `−${ago} min`;
      nodes.push(
        svg(
          'text',
          {
            class: 'axis-label',
            x: x(at),
            y: height - bottom + 16,
            'text-anchor': 'middle',
            'data-testid': 'chart-x-label',
          },
          label,
        ),
      );
    }
    nodes.push(svg('text', { class: 'axis-title', x: 4, y: 12 }, 'count'));
    nodes.push(svg('text', { class: 'axis-title', x: width - 4, y: 12, 'text-anchor': 'end' }, 'start-up'));
    nodes.push(
      svg('line', { class: 'axis', x1: left, x2: left + plotWidth, y1: top + plotHeight, y2: top + plotHeight }),
    );

    const minuteWidth = plotWidth / windowMinutes;
    for (const m of minutes) {
      const refusals = refusalsOf(m);
      if (refusals === 0) continue;
      const bar = svg('rect', {
        class: 'refusal-bar',
        x: x(Date.parse(m.at)),
        y: yCount(refusals),
        width: Math.max(2, minuteWidth - 1),
        height: top + plotHeight - yCount(refusals),
        'data-testid': 'chart-refusals',
      });
      bar.append(svg('title', {}, `${formatClock(new Date(m.at))}: ${plural(refusals, 'refusal')}`));
      nodes.push(bar);
    }
    if (minutes.length > 0) {
      // A step line: each minute's peak, from its start to the next minute's (the last one up to now).
      const points = [];
      minutes.forEach((m, i) => {
        const from = x(Date.parse(m.at));
        const to = i + 1 < minutes.length ? x(Date.parse(minutes[i + 1].at)) : x(end);
        points.push(
          `${from.toFixed(1)},${yCount(m.sessionsLive).toFixed(1)}`,
          `${to.toFixed(1)},${yCount(m.sessionsLive).toFixed(1)}`,
        );
      });
      nodes.push(
        svg('polyline', { class: 'sessions-line', points: points.join(' '), 'data-testid': 'chart-sessions' }),
      );
    }
    for (const m of startups) {
      const cx = x(Date.parse(m.at)) + minuteWidth / 2;
      nodes.push(
        svg('line', {
          class: 'startup-p90',
          x1: cx - 4,
          x2: cx + 4,
          y1: yMs(m.startupMs.p90),
          y2: yMs(m.startupMs.p90),
        }),
      );
      const dot = svg('circle', {
        class: 'startup-dot',
        cx,
        cy: yMs(m.startupMs.p50),
        r: 3.5,
        'data-testid': 'chart-startup',
      });
      const count = plural(m.startupMs.count, 'start-up');
      dot.append(
        svg(
          'title',
          {},
          `${formatClock(new Date(m.at))}: ${count}, p50 ${m.startupMs.p50} ms, p90 ${m.startupMs.p90} ms`,
        ),
      );
      nodes.push(dot);
    }
    ui.chart.replaceChildren(...nodes);
    const peak = Math.max(0, ...minutes.map((m) => m.sessionsLive));
    const refused = minutes.reduce((sum, m) => sum + refusalsOf(m), 0);
    const slowest = Math.max(0, ...startups.map((m) => m.startupMs.max));
    ui.chartSessionsMax.textContent = `(peak ${peak})`;
    ui.chartStartupMax.textContent = startups.length ? `(slowest ${slowest} ms)` : '(none yet)';
    ui.chartRefusals.textContent = `(${refused} in the hour)`;
  }

  /** "1 port", "2 ports". */
  function plural(count, noun) {
    return `${count} ${noun}${count === 1 ? '' : 's'}`;
  }

  /** Warm servers (ready or starting) hold slots but are not sessions. */
  function warmServers(warm) {
    if (!warm) return 0;
    const starting = warm.starting ? (Number(warm.starting.csr) || 0) + (Number(warm.starting.ssr) || 0) : 0;
    return (Number(warm.csr) || 0) + (Number(warm.ssr) || 0) + starting;
  }

  /** The warm pool beside the capacity: ready servers waiting for a viewer (hidden when no pool is configured). */
  function renderWarm(warm) {
    const target = warm && warm.target ? Number(warm.target.csr) + Number(warm.target.ssr) : 0;
    ui.warmFigure.hidden = !(target > 0);
    if (!(target > 0)) return;
    const ready = (Number(warm.csr) || 0) + (Number(warm.ssr) || 0);
    ui.warmCount.textContent = `${ready} / ${target}`;
    const parts = [`CSR ${warm.csr}/${warm.target.csr}`, `SSR ${warm.ssr}/${warm.target.ssr}`];
    if (warm.failing) parts.push(String(warm.failing));
    ui.warmFigure.title = `Warm servers ready to hand out: ${parts.join(', ')}`;
    ui.warmFigure.dataset.failing = String(Boolean(warm.failing));
  }

  function renderReadiness(state, label, reason) {
    ui.readiness.dataset.ready = state;
    ui.readiness.querySelector('.readiness-text').textContent = label;
    ui.readinessReason.hidden = !reason;
    ui.readinessReason.textContent = reason;
  }

  // ---------------------------------------------------------------- start

  ui.form.addEventListener('submit', createViewer);
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
    showError('Could not load the sessions', String(error && error.message ? error.message : error));
  });
  startEvents();
})();

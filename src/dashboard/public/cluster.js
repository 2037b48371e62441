// @ts-check
/*
 * sc-spawner dashboard, fleet view: every node of the cluster (GET cluster) with its state, capacity bar,
 * sessions and warm servers, the totals, and every session of the fleet (GET cluster/spawns), each with
 * its node. A session's actions go to its own node through the balancer, under /n/<node>/.
 * With no peers configured it shows this one node. It uses the page's API key (api.js asks for one when the
 * service needs it). Server data only reaches the page through textContent and attributes, never as markup.
 */
import { apiKey } from './api.js';
import { errorText } from './dom.js';
import { isLive, stateLabel } from './states.js';

const REFRESH_MS = 2000;
/** A node's state in words (node states, not spawn states). @type {Record<string, string>} */
const NODE_STATE_LABEL = { ready: 'Ready', full: 'Full', draining: 'Draining', unreachable: 'Unreachable' };

/** @param {{ method?: string }} [options] @returns {RequestInit} */
function authorized(options = {}) {
  const key = apiKey();
  /** @type {Record<string, string>} */
  const headers = { Accept: 'application/json' };
  if (key) headers.Authorization = `Bearer ${key}`;
  return { ...options, headers };
}

/** @param {string} tag @param {string} className @param {string | number} [text] @returns {HTMLElement} */
function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = String(text);
  return node;
}

/** @param {number} active @param {number} max */
function capacityBar(active, max) {
  const bar = el('div', 'capacity-bar');
  bar.setAttribute('role', 'progressbar');
  bar.setAttribute('aria-valuemin', '0');
  bar.setAttribute('aria-valuemax', String(max));
  bar.setAttribute('aria-valuenow', String(active));
  const percent = max > 0 ? Math.min(100, Math.round((100 * active) / max)) : 0;
  bar.dataset.level = max > 0 && active >= max ? 'full' : percent >= 75 ? 'high' : 'ok';
  const fill = el('div', 'capacity-fill');
  fill.style.width = `${percent}%`;
  bar.append(fill);
  return bar;
}

/** @param {any} node */
function liveCount(node) {
  return Object.values(node.sessions.byRenderer || {}).reduce((sum, n) => sum + n, 0);
}

/** @param {any} node one node of GET cluster */
function nodeRow(node) {
  const row = el('tr', 'cluster-row');
  row.dataset.testid = 'cluster-row';
  row.dataset.node = node.name;
  row.dataset.state = node.state;
  const name = el('td', 'cluster-node');
  const link = /** @type {HTMLAnchorElement} */ (el('a', '', node.name));
  link.href = `/n/${encodeURIComponent(node.name)}/`;
  link.title = `This node's own dashboard, through the balancer (${node.url})`;
  name.append(link);
  const state = el('td', '');
  const badge = el('span', 'node-state', NODE_STATE_LABEL[node.state] || node.state);
  badge.dataset.testid = 'cluster-row-state';
  badge.dataset.state = node.state;
  state.append(badge);
  if (node.error) state.append(el('small', 'node-error', node.error));
  const capacity = el('td', 'cluster-capacity');
  if (node.state !== 'unreachable') {
    const { active, max, freePorts } = node.capacity;
    capacity.append(capacityBar(active, max), el('small', '', `${active} / ${max} · ${freePorts} free ports`));
  } else capacity.append(el('small', '', '–'));
  const sessions = el('td', 'cluster-count', node.state === 'unreachable' ? '–' : liveCount(node));
  sessions.dataset.testid = 'cluster-row-sessions';
  const warm = el('td', 'cluster-count', node.state === 'unreachable' ? '–' : node.warm.csr + node.warm.ssr);
  row.append(name, state, capacity, sessions, warm);
  return row;
}

/**
 * @param {{ rows: HTMLElement, totals: HTMLElement }} ui
 * @param {any} view GET cluster
 */
function renderNodes(ui, view) {
  ui.rows.replaceChildren(...view.nodes.map(nodeRow));
  const t = view.totals;
  const states = Object.entries(t.byNodeState)
    .filter(([, n]) => n > 0)
    .map(([state, n]) => `${n} ${state}`)
    .join(', ');
  ui.totals.textContent =
    `${t.nodes} node${t.nodes === 1 ? '' : 's'} (${states}) · ${t.capacity.active} / ${t.capacity.max} slots · ` +
    `${t.sessions.live} live session${t.sessions.live === 1 ? '' : 's'} · ${t.warm.csr + t.warm.ssr} warm`;
}

/**
 * Where a session is stopped: its node's prefix on the balancer, next to this page (served at `<base>/` or
 * `<base>/n/<node>/`). Built from node and id, never from the links a node sent: a peer could point those at
 * another node's session, or at another host that would then receive the API key.
 * @param {string} node @param {string} id
 */
function sessionPath(node, id) {
  const base = new URL('.', location.href).pathname.replace(/\/n\/[^/]+\/$/, '/');
  return `${base}n/${encodeURIComponent(node)}/spawns/${encodeURIComponent(id)}`;
}

/** @param {string} path @param {HTMLButtonElement} button @param {() => Promise<void>} refresh */
async function stop(path, button, refresh) {
  button.disabled = true;
  try {
    const response = await fetch(path, authorized({ method: 'DELETE' }));
    if (!response.ok) throw new Error(`${response.status} ${response.statusText}`);
    await refresh();
  } catch (error) {
    button.disabled = false;
    button.title = `Could not stop it: ${errorText(error)}`;
  }
}

/** @param {any} spawn @param {() => Promise<void>} refresh */
function sessionRow(spawn, refresh) {
  const row = el('li', 'cluster-session');
  row.dataset.testid = 'cluster-session';
  row.dataset.node = spawn.node;
  row.append(el('span', 'renderer-badge', (spawn.rendererType || '').toUpperCase()));
  row.append(el('code', 'card-id', spawn.id));
  row.append(el('span', 'cluster-session-node', spawn.node));
  const state = el('span', 'cluster-session-state', stateLabel(spawn.state));
  state.dataset.state = spawn.state;
  row.append(state);
  const button = /** @type {HTMLButtonElement} */ (el('button', 'ghost', 'Stop'));
  button.type = 'button';
  button.dataset.testid = 'cluster-session-stop';
  const path = sessionPath(String(spawn.node), String(spawn.id));
  button.title = `DELETE ${path}`;
  button.addEventListener('click', () => void stop(path, button, refresh));
  row.append(button);
  return row;
}

/**
 * The live sessions of GET cluster/spawns; returns what to add to the status line about nodes whose sessions
 * could not be read.
 * @param {{ sessions: HTMLElement }} ui @param {any} listed @param {() => Promise<void>} refresh
 */
function renderSessions(ui, listed, refresh) {
  const live = listed.spawns.filter((/** @type {any} */ s) => isLive(s.state));
  ui.sessions.replaceChildren(...live.map((/** @type {any} */ s) => sessionRow(s, refresh)));
  const unread = listed.nodes.filter((/** @type {any} */ n) => n.sessionsError);
  return unread.map((/** @type {any} */ n) => ` · ${n.name}: sessions not read (${n.sessionsError})`).join('');
}

/** Starts refreshing the cluster panel, if the page has one. */
export function startCluster() {
  const panel = document.querySelector('[data-testid="cluster-panel"]');
  if (!(panel instanceof HTMLElement)) return;
  /** @param {string} id */
  const byTestId = (id) => /** @type {HTMLElement} */ (panel.querySelector(`[data-testid="${id}"]`));
  const ui = {
    rows: byTestId('cluster-rows'),
    totals: byTestId('cluster-totals'),
    status: byTestId('cluster-status'),
    sessions: byTestId('cluster-sessions'),
  };
  /** Keys (or no key: '') the service refused: not sent again; api.js asks the operator for another. */
  const refusedKeys = new Set();
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  const refresh = async () => {
    clearTimeout(timer);
    const key = apiKey();
    if (refusedKeys.has(key)) {
      timer = setTimeout(() => void refresh(), REFRESH_MS / 4);
      return;
    }
    try {
      const [nodes, spawns] = await Promise.all([
        fetch('cluster', authorized()),
        fetch('cluster/spawns', authorized()),
      ]);
      if (nodes.status === 401 || spawns.status === 401) {
        refusedKeys.add(key);
        ui.status.textContent = 'API key needed';
      } else if (!nodes.ok) {
        ui.status.textContent = `GET cluster answered ${nodes.status}`;
      } else {
        renderNodes(ui, await nodes.json());
        const unread = spawns.ok ? renderSessions(ui, await spawns.json(), refresh) : '';
        ui.status.textContent = `updated ${new Date().toLocaleTimeString()}${unread}`;
        panel.hidden = false;
      }
    } catch (error) {
      ui.status.textContent = `cannot reach this node (${errorText(error)})`;
    }
    timer = setTimeout(() => void refresh(), REFRESH_MS);
  };
  void refresh();
}

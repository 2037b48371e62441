// @ts-check
/* Capacity and readiness from GET /health (always 200 while the service runs; /health/ready answers 503 at capacity). */
import { updateCounts } from './counts.js';
import { errorText, part, plural, readJson, ui } from './dom.js';
import { liveStates, stateLabel } from './states.js';
import { service } from './store.js';

/** @type {ReturnType<typeof setTimeout> | null} */
let healthTimer = null;
export function scheduleHealth() {
  if (healthTimer) return;
  healthTimer = setTimeout(() => {
    healthTimer = null;
    void refreshHealth();
  }, 150);
}

/** @param {string} state @param {string} label @param {string} reason */
function renderReadiness(state, label, reason) {
  ui.readiness.dataset.ready = state;
  part(ui.readiness, '.readiness-text').textContent = label;
  ui.readinessReason.hidden = !reason;
  ui.readinessReason.textContent = reason;
}

/** "Create New Viewer" is off while the service would refuse it, with the reason beside it. @param {string} reason */
function setCreateBlocked(reason) {
  ui.createButton.disabled = Boolean(reason);
  ui.createBlocked.hidden = !reason;
  ui.createBlocked.textContent = reason ? `Unavailable: ${reason}` : '';
}

/** Warm servers (ready or starting) hold slots but are not sessions. @param {any} warm */
function warmServers(warm) {
  if (!warm) return 0;
  const starting = warm.starting ? (Number(warm.starting.csr) || 0) + (Number(warm.starting.ssr) || 0) : 0;
  return (Number(warm.csr) || 0) + (Number(warm.ssr) || 0) + starting;
}

/** The warm pool beside the capacity: ready servers waiting for a viewer (hidden when no pool is configured). */
/** @param {any} warm */
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

/** @param {number} busyPorts */
function noFreePort(busyPorts) {
  return busyPorts > 0 ? `no free WebSocket port: ${busyPorts} held by another program` : 'no free WebSocket port';
}

/** @param {any} spawner the health check's `spawner` details */
function renderCapacity(spawner) {
  const active = Number(spawner.activeSpawns) || 0;
  const max = Number(spawner.maxSpawns) || 0;
  const freePorts = Number(spawner.freePorts) || 0;
  ui.capacityText.textContent = `${active} / ${max}`;
  const percent = max > 0 ? Math.min(100, Math.round((active / max) * 100)) : 0;
  part(ui.capacityBar, '.capacity-fill').style.width = `${percent}%`;
  ui.capacityBar.dataset.level = active >= max ? 'full' : percent >= 75 ? 'high' : 'ok';
  ui.capacityBar.setAttribute('aria-valuemax', String(max));
  ui.capacityBar.setAttribute('aria-valuenow', String(active));
  const busyPorts = Number(spawner.busyPorts) || 0;
  ui.freePorts.textContent = Number.isFinite(Number(spawner.freePorts))
    ? plural(freePorts, 'free port') + (busyPorts > 0 ? ` · ${busyPorts} held by another program` : '')
    : '–';
  renderWarm(spawner.warm);
  service.sessions = Math.max(0, active - warmServers(spawner.warm));
  updateCounts();
  const states = spawner.states && typeof spawner.states === 'object' ? spawner.states : {};
  ui.stateSummary.textContent = liveStates()
    .filter((s) => Number(states[s]) > 0)
    .map((s) => `${states[s]} ${stateLabel(s).toLowerCase()}`)
    .join(' · ');
  const reason =
    active >= max ? `at capacity: all ${max} spawn slots in use` : freePorts === 0 ? noFreePort(busyPorts) : '';
  if (!reason) renderReadiness('true', 'Accepting viewers', '');
  else renderReadiness('false', 'Not accepting', `Not accepting new viewers: ${reason}`);
  setCreateBlocked(reason);
}

export async function refreshHealth() {
  let response;
  let body;
  try {
    response = await fetch('health', { headers: { Accept: 'application/json' } });
    body = await readJson(response);
  } catch (error) {
    renderReadiness('error', 'Unreachable', `The service did not answer: ${errorText(error)}`);
    setCreateBlocked('the service did not answer');
    return;
  }
  const spawner = (body && ((body.details && body.details.spawner) || (body.info && body.info.spawner))) || undefined;
  if (!response.ok || !spawner) {
    renderReadiness('error', 'Unknown', `GET /health answered HTTP ${response.status}`);
    setCreateBlocked('');
    return;
  }
  renderCapacity(spawner);
}

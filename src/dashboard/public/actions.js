// @ts-check
/* What the operator does: create a viewer (POST spawn) and close a session (DELETE spawns/:id). */
import { api } from './api.js';
import { scheduleHealth } from './capacity.js';
import { render } from './card-view.js';
import { errorText, part, readJson, ui } from './dom.js';
import { clearErrors, describeFailure, showError } from './errors.js';
import { upsert } from './sessions.js';
import { connectViewer } from './viewer.js';

/** @typedef {import('./store.js').Session} Session */

let pendingCreates = 0;

function renderPending() {
  ui.pending.hidden = pendingCreates === 0;
  part(ui.pending, '.pending-text').textContent =
    pendingCreates === 1 ? 'Starting a Stream Cache Server…' : `Starting ${pendingCreates} Stream Cache Servers…`;
}

/** @param {SubmitEvent} event */
export async function createViewer(event) {
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
    showError('Create New Viewer failed: the service could not be reached', errorText(error));
  } finally {
    pendingCreates--;
    renderPending();
    scheduleHealth();
  }
}

/** @param {Session} session */
export async function closeSession(session) {
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
        const endReason = session.view.endReason || 'no longer known to the service';
        session.view = { ...session.view, state: 'exited', endReason };
      }
      render(session);
      return;
    }
    clearErrors();
    upsert(data);
  } catch (error) {
    session.closing = false;
    render(session);
    showError('Close failed: the service could not be reached', errorText(error));
  } finally {
    scheduleHealth();
  }
}

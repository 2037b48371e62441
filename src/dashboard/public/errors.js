// @ts-check
/* Readable failures: a title and a sentence an operator can act on, kept until dismissed. */
import { byTestId, cloneOf, formatClock, part, ui } from './dom.js';

const MAX_ERRORS = 6;

/**
 * Shows a message that stays until dismissed (the newest first, at most MAX_ERRORS).
 * @param {string} title
 * @param {string} [detail]
 * @param {{ status?: number, kind?: string }} [options]
 */
export function showError(title, detail, options = {}) {
  const node = cloneOf(ui.errorTemplate);
  byTestId('error-title', node).textContent = title;
  byTestId('error-detail', node).textContent = detail || '';
  if (options.status) node.dataset.status = String(options.status);
  if (options.kind) node.dataset.kind = options.kind;
  const time = /** @type {HTMLTimeElement} */ (part(node, '.alert-time'));
  const now = new Date();
  time.dateTime = now.toISOString();
  time.textContent = formatClock(now);
  byTestId('error-dismiss', node).addEventListener('click', () => node.remove());
  ui.errors.prepend(node);
  while (ui.errors.children.length > MAX_ERRORS) ui.errors.lastElementChild?.remove();
}

/** A later action that worked makes the earlier failures history. */
export function clearErrors() {
  ui.errors.replaceChildren();
}

/**
 * @param {any} body
 * @param {string} fallback
 * @returns {string}
 */
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

/** @type {Record<number, string>} */
const KNOWN = {
  400: 'the request was rejected',
  403: 'this rendering mode is disabled on the server',
  404: 'no such session',
  409: 'the session was stopped before it was ready',
  500: 'the service hit an internal error',
  502: 'the Stream Cache Server failed to start',
  503: 'no capacity for another viewer',
  504: 'the Stream Cache Server did not become ready in time',
};

/**
 * Turns a failed API answer into a title and a sentence an operator can act on.
 * @param {string} action
 * @param {Response} response
 * @param {any} body
 */
export function describeFailure(action, response, body) {
  const status = response.status;
  const message = messageOf(body, response.statusText || 'no details');
  const retryAfter = response.headers.get('Retry-After');
  const retry = retryAfter && /^\d+$/.test(retryAfter) ? ` Try again in ${retryAfter} s.` : '';
  const what = KNOWN[status] || (body && typeof body.error === 'string' ? body.error : 'unexpected answer');
  const detail = `${message.charAt(0).toUpperCase()}${message.slice(1)}${/[.!?]$/.test(message) ? '' : '.'}${retry}`;
  return { title: `${action} failed: ${what} (HTTP ${status})`, detail };
}

// @ts-check
/*
 * The page's elements and small formatting helpers. Server data only ever reaches the page through textContent
 * and attributes, never as markup.
 */

/**
 * The element with this data-testid (in `root`), which the page must have.
 * @param {string} id
 * @param {ParentNode} [root]
 * @returns {HTMLElement}
 */
export function byTestId(id, root = document) {
  const node = root.querySelector(`[data-testid="${id}"]`);
  if (!(node instanceof HTMLElement) && !(node instanceof SVGElement)) throw new Error(`the page has no ${id}`);
  return /** @type {HTMLElement} */ (node);
}

/**
 * The element matching `selector` in `root`, which must be there.
 * @param {ParentNode} root
 * @param {string} selector
 * @returns {HTMLElement}
 */
export function part(root, selector) {
  const node = root.querySelector(selector);
  if (!(node instanceof HTMLElement)) throw new Error(`no ${selector} here`);
  return node;
}

/**
 * @param {string} id
 * @returns {HTMLTemplateElement}
 */
function template(id) {
  const node = document.getElementById(id);
  if (!(node instanceof HTMLTemplateElement)) throw new Error(`the page has no template ${id}`);
  return node;
}

export const ui = {
  form: /** @type {HTMLFormElement} */ (byTestId('create-form')),
  createButton: /** @type {HTMLButtonElement} */ (byTestId('create-button')),
  modelInput: /** @type {HTMLInputElement} */ (byTestId('model-input')),
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
  keyForm: /** @type {HTMLFormElement} */ (byTestId('key-form')),
  keyInput: /** @type {HTMLInputElement} */ (byTestId('key-input')),
  keyMessage: byTestId('key-message'),
  chart: /** @type {Element} */ (byTestId('chart')),
  chartSessionsMax: byTestId('chart-sessions-max'),
  chartStartupMax: byTestId('chart-startup-max'),
  chartRefusals: byTestId('chart-refusals-total'),
  cardTemplate: template('card-template'),
  errorTemplate: template('error-template'),
};

/**
 * A copy of a template's first element.
 * @param {HTMLTemplateElement} from
 * @returns {HTMLElement}
 */
export function cloneOf(from) {
  const node = from.content.firstElementChild?.cloneNode(true);
  if (!(node instanceof HTMLElement)) throw new Error('empty template');
  return node;
}

/** @param {string} state @param {string} text */
export function setLink(state, text) {
  ui.linkStatus.dataset.link = state;
  part(ui.linkStatus, '.link-text').textContent = text;
}

/** @param {number} ms */
export function formatDuration(ms) {
  if (!Number.isFinite(ms) || ms < 0) ms = 0;
  const total = Math.floor(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h > 0) return `${h}h ${String(m).padStart(2, '0')}m ${String(s).padStart(2, '0')}s`;
  if (m > 0) return `${m}m ${String(s).padStart(2, '0')}s`;
  return `${s}s`;
}

/** @param {Date} date */
export function formatClock(date) {
  return date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

/** @param {string | null | undefined} iso */
export const timeOf = (iso) => (iso ? Date.parse(iso) : NaN);

/** "1 port", "2 ports". @param {number} count @param {string} noun */
export function plural(count, noun) {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** What went wrong, in words. @param {unknown} error */
export function errorText(error) {
  return error instanceof Error ? error.message : String(error);
}

/**
 * A JSON body, a short text one as its message, or undefined when empty.
 * @param {Response} response
 * @returns {Promise<any>}
 */
export async function readJson(response) {
  const text = await response.text();
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return { message: text.slice(0, 300) };
  }
}

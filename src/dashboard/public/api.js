// @ts-check
/*
 * The API key and fetch() with it. With API keys on the service, the page asks for one on the first 401, keeps
 * it for this tab (sessionStorage), and sends it as a Bearer token, on the event stream too (event-feed.js): never in
 * a URL. cluster.js and sessions-cost.js read the same key.
 */
import { setLink, ui } from './dom.js';

export const KEY_STORAGE = 'sc-spawner.api-key';
let key = sessionStorage.getItem(KEY_STORAGE) || '';
/** @type {Array<() => void>} */
let keyWaiters = [];
/** Told when the page starts or stops waiting for a key, and when a new key arrives. */
const hooks = { changed: () => {}, newKey: () => {} };

/** @param {{ changed: () => void, newKey: () => void }} given */
export function onKey(given) {
  Object.assign(hooks, given);
}

/** The key this tab uses ('' for none). */
export const apiKey = () => key;
/** The Authorization header for the key this tab uses (none without one). @returns {Record<string, string>} */
export const keyHeaders = () => (key ? { Authorization: `Bearer ${key}` } : {});
/** Whether the page waits for the operator to enter a key. */
export const waitingForKey = () => keyWaiters.length > 0;
/**
 * Resolves at once unless the page waits for a key, then once one is entered: a request sent meanwhile would only
 * be refused (and show up as one more 401 in the console and the service's log).
 * @returns {Promise<void>}
 */
export const keyEntered = () =>
  keyWaiters.length > 0 ? new Promise((resolve) => keyWaiters.push(resolve)) : Promise.resolve();

/**
 * Shows the key form and resolves once the operator has entered a key.
 * @param {string} message
 * @returns {Promise<void>}
 */
function askForKey(message) {
  if (message) ui.keyMessage.textContent = message;
  if (ui.keyForm.hidden) {
    ui.keyForm.hidden = false;
    ui.keyInput.focus();
  }
  setLink('offline', 'API key needed');
  /** @type {Promise<void>} */
  const waiting = new Promise((resolve) => keyWaiters.push(resolve));
  hooks.changed();
  return waiting;
}

ui.keyForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const entered = ui.keyInput.value.trim();
  if (!entered) return;
  key = entered;
  sessionStorage.setItem(KEY_STORAGE, entered);
  ui.keyInput.value = '';
  ui.keyForm.hidden = true;
  const waiters = keyWaiters;
  keyWaiters = [];
  for (const resolve of waiters) resolve();
  hooks.changed();
  hooks.newKey();
});

/**
 * fetch() with the key; a 401 asks for a (new) key and tries again.
 * @param {string} path
 * @param {RequestInit & { headers?: Record<string, string> }} [options]
 * @returns {Promise<Response>}
 */
export async function api(path, options = {}) {
  for (;;) {
    // Without a key while the page asks for one, the request would only be refused: wait for the key first.
    if (!key) await keyEntered();
    /** @type {Record<string, string>} */
    const headers = { ...(options.headers || {}) };
    const used = key;
    if (used) headers.Authorization = `Bearer ${used}`;
    const response = await fetch(path, { ...options, headers });
    if (response.status !== 401) return response;
    if (used) {
      if (key === used) {
        key = '';
        sessionStorage.removeItem(KEY_STORAGE);
      }
      await askForKey('That key was refused. Enter a valid API key.');
    } else if (!key) {
      // Several requests may be refused at once: the form already asking keeps what it says.
      await askForKey(ui.keyForm.hidden ? 'This service needs an API key (API_KEYS). Enter one to continue.' : '');
    }
  }
}

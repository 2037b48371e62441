// @ts-check
/* The sessions this page shows, and what it knows of the service's count. */

/**
 * A session's view as the API serves it (GET /spawns), merged with events; only `id` and `state` are sure.
 * @typedef {{ id: string, state: string, [field: string]: any }} View
 */

/**
 * One card: its view, its element and the viewer WebSocket this page attached.
 * @typedef {{
 *   view: View, el: HTMLElement, ws: WebSocket | null, wsTried: boolean, wsOpened: boolean,
 *   hello: any, owned: boolean, closing: boolean
 * }} Session
 */

/** @type {Map<string, Session>} id -> session */
export const sessions = new Map();
/** Ids the operator dismissed; resyncs do not bring them back. */
export const dismissed = new Set();
/** Sessions live on the service as the capacity panel last saw them (warm servers are capacity, not sessions). */
export const service = { sessions: 0 };

import * as path from 'path';

/** The dashboard's static files, beside this module in the source tree and in the build (nest-cli.json assets). */
export const DASHBOARD_PUBLIC_DIR = path.join(__dirname, 'public');

/**
 * Every file the dashboard serves under /assets/, with its type; nothing else is reachable. main.js is the page's
 * module; it imports the others (ES modules, no bundler).
 */
export const DASHBOARD_ASSETS: Readonly<Record<string, string>> = {
  'main.js': 'text/javascript; charset=utf-8',
  'api.js': 'text/javascript; charset=utf-8',
  'dom.js': 'text/javascript; charset=utf-8',
  'states.js': 'text/javascript; charset=utf-8',
  'store.js': 'text/javascript; charset=utf-8',
  'errors.js': 'text/javascript; charset=utf-8',
  'sessions.js': 'text/javascript; charset=utf-8',
  'counts.js': 'text/javascript; charset=utf-8',
  'card-view.js': 'text/javascript; charset=utf-8',
  'viewer.js': 'text/javascript; charset=utf-8',
  'actions.js': 'text/javascript; charset=utf-8',
  'feed.js': 'text/javascript; charset=utf-8',
  'event-feed.js': 'text/javascript; charset=utf-8',
  'capacity.js': 'text/javascript; charset=utf-8',
  'chart.js': 'text/javascript; charset=utf-8',
  'cluster.js': 'text/javascript; charset=utf-8',
  'sessions-cost.js': 'text/javascript; charset=utf-8',
  'styles.css': 'text/css; charset=utf-8',
  'favicon.svg': 'image/svg+xml',
};

/**
 * The page loads only its own script and styles; it talks to this service (fetch, its event stream too) and to
 * session WebSockets, which may be advertised under PUBLIC_HOSTNAME, hence any ws:/wss: host.
 */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self' ws: wss:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

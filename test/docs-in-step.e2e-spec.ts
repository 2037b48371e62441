/**
 * End to end: the reference in docs/ names exactly what the code has, both ways: every setting the configuration
 * reads (docs/configuration.md), every sc_spawner_* metric a live /metrics exports (docs/operations.md) and every
 * route the router registers (docs/api.md). A failure lists each name missing, and where.
 */
import { readdirSync, readFileSync } from 'fs';
import { join } from 'path';
import { readAppConfig } from '../src/config/app-config';
import { registeredRoutes } from './support/operable';
import { useCleanup } from './support/processes';
import { FAST_TIMINGS, REPO_ROOT } from './support/spawner-app';
import { rawRequest, startTrackedApp } from './support/spawner-e2e';

const ENV = { ...FAST_TIMINGS, SC_PORT_BASE: '29500', SC_MAX_SPAWNS: '2', SC_WARM_POOL_CSR: '1' };
/** Swagger's own pages: documented once as `GET /docs`, `GET /docs-json`, `GET /docs-yaml`. */
const SWAGGER_ASSETS = /^\/docs\/|^\/docs$/;

/** The lines of a `## heading` section of a docs page. */
function section(page: string, heading: string): string {
  const text = readFileSync(join(REPO_ROOT, 'docs', page), 'utf8');
  const start = text.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`docs/${page} has no "## ${heading}" section`);
  const end = text.indexOf('\n## ', start + 1);
  return text.slice(start, end < 0 ? undefined : end);
}

/** What is only on one side, as lines a person can act on. */
function drift(what: string, page: string, inCode: Iterable<string>, inDocs: Iterable<string>): string[] {
  const code = new Set(inCode);
  const docs = new Set(inDocs);
  return [
    ...[...code].filter((name) => !docs.has(name)).map((name) => `${what} ${name} is missing from docs/${page}`),
    ...[...docs]
      .filter((name) => !code.has(name))
      .map((name) => `${what} ${name} is in docs/${page} but not in the code`),
  ].sort();
}

describe('docs in step with the code (e2e)', () => {
  const cleanup = useCleanup();

  it('the README is one screen and every page reads in a terminal (no line over 120 characters outside code)', () => {
    const pages = [
      'README.md',
      ...readdirSync(join(REPO_ROOT, 'docs'))
        .filter((f) => f.endsWith('.md'))
        .map((f) => `docs/${f}`),
    ];
    const wide: string[] = [];
    for (const page of pages) {
      let code = false;
      readFileSync(join(REPO_ROOT, page), 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (line.startsWith('```')) code = !code;
          else if (!code && [...line].length > 120)
            wide.push(`${page}:${i + 1} is ${[...line].length} characters wide`);
        });
    }
    expect(wide).toEqual([]);
    expect(readFileSync(join(REPO_ROOT, 'README.md'), 'utf8').split('\n').length).toBeLessThanOrEqual(150);
  });

  it('every setting the configuration reads is in docs/configuration.md, and every one listed there exists', () => {
    const read = readAppConfig({}, {}, 'docs-node').config.settings.map((setting) => setting.name);
    // Each list item of "## Settings" starts with the settings it describes: `A`, `B` / `C` (default ...).
    const documented = section('configuration.md', 'Settings')
      .split('\n')
      .filter((line) => line.startsWith('- `'))
      .flatMap((line) => [...line.split(' (default')[0].matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((m) => m[1]));
    expect(read.length).toBeGreaterThan(40);
    expect(drift('setting', 'configuration.md', read, documented)).toEqual([]);
  });

  it('every sc_spawner_* metric of a live /metrics and every registered route are documented, and only those', async () => {
    const app = await startTrackedApp(cleanup, ENV);
    const metrics = await rawRequest(app.url, 'GET', '/metrics');
    expect(metrics.status).toBe(200);
    const exported = [...metrics.body.matchAll(/^# TYPE (sc_spawner_\w+) /gm)].map((m) => m[1]);
    const documentedMetrics = section('operations.md', 'Metrics')
      .split('\n')
      .filter((line) => line.startsWith('- `sc_spawner_'))
      .map((line) => /^- `(sc_spawner_\w+)`/.exec(line)![1]);
    expect(exported.length).toBeGreaterThan(10);

    const routes = registeredRoutes(app.app)
      .filter((route) => !SWAGGER_ASSETS.test(route.path) || route.path === '/docs')
      .map((route) => `${route.method} ${route.path}`);
    const documentedRoutes = [
      ...section('api.md', 'Routes').matchAll(/`(GET|POST|PUT|PATCH|DELETE) (\/[^`?\s]*)/g),
    ].map((m) => `${m[1]} ${m[2]}`);
    expect(routes.length).toBeGreaterThan(15);

    expect([
      ...drift('metric', 'operations.md', exported, documentedMetrics),
      ...drift('route', 'api.md', routes, documentedRoutes),
    ]).toEqual([]);
  });
});

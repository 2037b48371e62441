/**
 * End to end: locking the service down. With API_KEYS every route the application registers needs the key
 * except an explicit public set (the list of routes comes from the app itself, so a new route cannot slip
 * through); spawn routes open unless SPAWN_AUTH=required; CORS_ORIGINS refuses other origins; SPAWN_RATE_LIMIT
 * answers 429 with Retry-After.
 */
import { chmodSync, writeFileSync } from 'fs';
import { connect } from 'net';
import { join } from 'path';
import { concretePath, headOf, registeredRoutes } from './support/operable';
import { freePort } from './support/ports';
import { useCleanup } from './support/processes';
import { FAST_TIMINGS, startServiceProcess } from './support/spawner-app';
import { rawRequest, startTrackedApp, type TrackedApp } from './support/spawner-e2e';
import { SIM_EXECUTABLE } from './support/simulator';
import { makeTempDir } from './support/temp';

const PORT_BASE = 25500;
const KEY = 'k3y-0123456789abcdef';
const OTHER_KEY = 'k3y-fedcba9876543210';
const ENV = { ...FAST_TIMINGS, SC_PORT_BASE: String(PORT_BASE), SC_MAX_SPAWNS: '2' };
const BEARER = { authorization: `Bearer ${KEY}` };

/** The routes open to anyone even when keys are configured; anything else must answer 401 without a key. */
const PUBLIC_ROUTES = [
  'GET /',
  'GET /assets/:file',
  'GET /health',
  'GET /health/ready',
  'GET /api/states',
  'POST /liveliness/:id',
  'POST /api/spawns/:id',
  // Swagger UI and the OpenAPI document: they describe the API, not its data.
  'GET /docs',
  'GET /docs/',
  'GET /docs/index.html',
  'GET /docs/LICENSE',
  'GET /docs/swagger-ui-init.js',
  'GET /docs/docs/swagger-ui-init.js',
  'GET /docs-json',
  'GET /docs-yaml',
];
const SPAWN_ROUTES = ['POST /spawn', 'POST /api/spawn', 'POST /service'];

function routeName(route: { method: string; path: string }): string {
  return `${route.method} ${route.path}`;
}

/** A body each route refuses before doing anything (so no server starts): unknown fields. */
function harmlessBody(method: string): { body?: string; headers: Record<string, string> } {
  return method === 'POST'
    ? { body: '{"class":"no-such-class","bogus":1}', headers: { 'content-type': 'application/json' } }
    : { headers: {} };
}

async function statusWith(app: TrackedApp, method: string, path: string, headers: Record<string, string>) {
  const { body, headers: bodyHeaders } = harmlessBody(method);
  return headOf(app.url, method, concretePath(path), { ...bodyHeaders, ...headers }, body);
}

/** Sends a request head announcing `length` body bytes and only `sent` of them; the answer's status line (2 s at most). */
function firstAnswerLine(
  url: string,
  requestLine: string,
  headers: Record<string, string>,
  length: number,
  sent: string,
): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within 2 s to ${requestLine} with ${sent.length} of ${length} body bytes sent`));
    }, 2000);
    const head = Object.entries({ ...headers, 'content-length': String(length) }).map(([k, v]) => `${k}: ${v}\r\n`);
    socket.write(`${requestLine} HTTP/1.1\r\nhost: ${hostname}\r\n${head.join('')}\r\n${sent}`);
    socket.once('data', (chunk: Buffer) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(chunk.toString('latin1').split('\r\n')[0]);
    });
    socket.once('error', (error) => (clearTimeout(timer), reject(error)));
  });
}

describe('access (e2e)', () => {
  const cleanup = useCleanup();

  it('with API_KEYS: every registered route but the public ones answers 401 without or with a wrong key, and serves the right key', async () => {
    const app = await startTrackedApp(cleanup, { ...ENV, API_KEYS: `${OTHER_KEY},${KEY}` });
    const routes = registeredRoutes(app.app);
    const names = routes.map(routeName);
    // The enumeration really sees the application's routes.
    expect(names).toEqual(
      expect.arrayContaining(['GET /spawns', 'DELETE /spawns/:id', 'GET /api/status', 'GET /metrics', 'GET /events']),
    );
    const open: string[] = [];
    for (const route of routes) {
      const name = routeName(route);
      const anonymous = await statusWith(app, route.method, route.path, {});
      if (anonymous.status !== 401) {
        open.push(name);
        continue;
      }
      expect({ name, challenge: anonymous.headers['www-authenticate'] }).toEqual({
        name,
        challenge: 'Bearer realm="sc-spawner"',
      });
      const wrong = await statusWith(app, route.method, route.path, { authorization: 'Bearer wrong-key-0123456789' });
      expect({ name, status: wrong.status }).toEqual({ name, status: 401 });
      const shorter = await statusWith(app, route.method, route.path, { authorization: `Bearer ${KEY.slice(0, -1)}` });
      expect({ name, status: shorter.status }).toEqual({ name, status: 401 });
      const basic = await statusWith(app, route.method, route.path, { authorization: `Basic ${KEY}` });
      expect({ name, status: basic.status }).toEqual({ name, status: 401 });
      for (const key of [KEY, OTHER_KEY]) {
        const right = await statusWith(app, route.method, route.path, { authorization: `Bearer ${key}` });
        expect(right.status === 401 ? `${name} refused the right key` : 'served').toBe('served');
      }
    }
    // Exactly the public routes and the spawn routes are open; every other route needed the key.
    expect(open.sort()).toEqual([...PUBLIC_ROUTES, ...SPAWN_ROUTES].sort());
    expect(PUBLIC_ROUTES.filter((r) => !names.includes(r))).toEqual([]);
    expect(app.supervisor.list()).toEqual([]);
  });

  it('without keys every route is open, as before', async () => {
    const app = await startTrackedApp(cleanup, ENV);
    for (const route of registeredRoutes(app.app)) {
      const answer = await statusWith(app, route.method, route.path, {});
      expect({ name: routeName(route), status: answer.status }).not.toEqual({ name: routeName(route), status: 401 });
    }
  });

  it('spawn routes: open by default, behind the key with SPAWN_AUTH=required', async () => {
    const open = await startTrackedApp(cleanup, { ...ENV, API_KEYS: KEY });
    const spawned = await rawRequest(open.url, 'POST', '/spawn', '{}', { 'content-type': 'application/json' });
    expect(spawned.status).toBe(200);
    expect((await rawRequest(open.url, 'GET', `/spawns/${spawned.json().id}`)).status).toBe(401);
    expect((await rawRequest(open.url, 'DELETE', `/spawns/${spawned.json().id}`)).status).toBe(401);
    expect((await rawRequest(open.url, 'DELETE', `/spawns/${spawned.json().id}`, undefined, BEARER)).status).toBe(202);

    const closed = await startTrackedApp(cleanup, { ...ENV, API_KEYS: KEY, SPAWN_AUTH: 'required' });
    const refused = await rawRequest(closed.url, 'POST', '/spawn', '{}', { 'content-type': 'application/json' });
    expect(refused.status).toBe(401);
    expect(refused.headers['www-authenticate']).toBe('Bearer realm="sc-spawner"');
    const hoopsRefused = await rawRequest(closed.url, 'POST', '/api/spawn', '{"class":"csr_session"}', {
      'content-type': 'application/json',
    });
    expect(hoopsRefused.status).toBe(401);
    expect(hoopsRefused.json()).toEqual({ status: 'failed', reason: expect.stringMatching(/API key/) });
    expect(closed.supervisor.list()).toEqual([]);
    const allowed = await rawRequest(closed.url, 'POST', '/api/spawn', '{"class":"csr_session"}', {
      'content-type': 'application/json',
      ...BEARER,
    });
    expect(allowed.status).toBe(200);
    expect(allowed.json()).toMatchObject({ result: 'ok' });
  });

  it('reads no body of a request its key or rate limit refuses: 401 and 429 come before 415, 413 and 400', async () => {
    const app = await startTrackedApp(cleanup, {
      ...ENV,
      API_KEYS: KEY,
      SPAWN_AUTH: 'required',
      BODY_LIMIT: '1kb',
      SPAWN_RATE_LIMIT: '4/60s',
    });
    const json = { 'content-type': 'application/json' };
    const bodies: Array<[string, string, Record<string, string>, number]> = [
      ['XML', '<spawn/>', { 'content-type': 'text/xml' }, 415],
      ['over BODY_LIMIT', JSON.stringify({ model: 'x'.repeat(2048) }), json, 413],
      ['not JSON', '{"model":', json, 400],
      ['nested 100 deep', '{"a":' + '['.repeat(100) + ']'.repeat(100) + '}', json, 400],
    ];
    for (const [what, body, headers, withKey] of bodies) {
      const refused = await rawRequest(app.url, 'POST', '/spawn', body, headers);
      expect({ what, status: refused.status }).toEqual({ what, status: 401 });
      // The same body with the key is read, and refused for what it is (each one uses the client's budget).
      const read = await rawRequest(app.url, 'POST', '/spawn', body, { ...headers, ...BEARER });
      expect({ what, status: read.status }).toEqual({ what, status: withKey });
    }
    const overBudget = await rawRequest(app.url, 'POST', '/spawn', bodies[1][1], { ...json, ...BEARER });
    expect(overBudget.status).toBe(429);
    // A body announced but never sent is not waited for: the refusal comes at once, not at REQUEST_TIMEOUT_S.
    expect(
      await firstAnswerLine(app.url, 'POST /spawn', { 'content-type': 'application/json' }, 1_000_000, '{"mo'),
    ).toBe('HTTP/1.1 401 Unauthorized');
    expect(app.supervisor.list()).toEqual([]);
  });

  it('event streams also take the key as access_token (EventSource sends no headers); other routes do not', async () => {
    const app = await startTrackedApp(cleanup, { ...ENV, API_KEYS: KEY });
    expect((await headOf(app.url, 'GET', `/events?access_token=${KEY}`)).status).toBe(200);
    expect((await headOf(app.url, 'GET', `/events?access_token=${OTHER_KEY}`)).status).toBe(401);
    expect((await headOf(app.url, 'GET', `/spawns/none/events?access_token=${KEY}`)).status).toBe(404);
    expect((await headOf(app.url, 'GET', `/spawns?access_token=${KEY}`)).status).toBe(401);
    expect((await headOf(app.url, 'GET', `/metrics?access_token=${KEY}`)).status).toBe(401);
  });

  it('METRICS_PUBLIC=true opens /metrics only', async () => {
    const app = await startTrackedApp(cleanup, { ...ENV, API_KEYS: KEY, METRICS_PUBLIC: 'true' });
    expect((await rawRequest(app.url, 'GET', '/metrics')).status).toBe(200);
    expect((await rawRequest(app.url, 'GET', '/spawns')).status).toBe(401);
  });

  it('API_KEYS_FILE: one key a line, comments and blank lines ignored', async () => {
    const dir = makeTempDir(cleanup, 'sc-keys-');
    const file = join(dir, 'keys');
    writeFileSync(file, `# operators\n\n${KEY}\n  ${OTHER_KEY}  \n# old: k3y-retired-000000000\n`);
    const app = await startTrackedApp(cleanup, { ...ENV, API_KEYS_FILE: file });
    for (const key of [KEY, OTHER_KEY]) {
      expect((await rawRequest(app.url, 'GET', '/spawns', undefined, { authorization: `Bearer ${key}` })).status).toBe(
        200,
      );
    }
    for (const key of ['# operators', 'k3y-retired-000000000', '']) {
      expect((await rawRequest(app.url, 'GET', '/spawns', undefined, { authorization: `Bearer ${key}` })).status).toBe(
        401,
      );
    }
  });

  it.each([
    ['API_KEYS_FILE', `${KEY}\n`, {}],
    ['SC_LICENSE_FILE', 'LIC-FILE-0123\n', { SC_EXECUTABLE: SIM_EXECUTABLE }],
  ])('%s readable by every local user: one warning at start-up naming it; none at 0600', async (setting, text, env) => {
    const file = join(makeTempDir(cleanup, 'sc-secret-'), 'secret');
    writeFileSync(file, text);
    const start = async (mode: number) => {
      chmodSync(file, mode);
      const service = await startServiceProcess(await freePort(), { ...ENV, ...env, [setting]: file });
      cleanup.add(() => service.stop(10_000), 'service process');
      expect((await rawRequest(service.url, 'GET', '/spawns', undefined, BEARER)).status).toBe(200);
      await service.stop(10_000);
      return service.output.join('');
    };
    const warning = `${setting} ${file} is readable by every local user (mode 0644): chmod o-r it`;
    expect((await start(0o644)).split(warning)).toHaveLength(2);
    expect(await start(0o600)).not.toContain('readable by every local user');
  });

  describe('CORS_ORIGINS', () => {
    const ALLOWED = 'http://a.example';
    const OTHER = 'http://b.example';

    it('serves a listed origin; refuses the preflight and the blind POST of another; GETs carry no CORS header for it', async () => {
      const app = await startTrackedApp(cleanup, { ...ENV, CORS_ORIGINS: ALLOWED });
      const preflight = (origin: string, method: string, path: string) =>
        rawRequest(app.url, 'OPTIONS', path, undefined, {
          origin,
          'access-control-request-method': method,
          'access-control-request-headers': 'authorization,content-type',
        });
      const allowed = await preflight(ALLOWED, 'DELETE', '/spawns/x');
      expect(allowed.status).toBe(204);
      expect(allowed.headers['access-control-allow-origin']).toBe(ALLOWED);
      expect(String(allowed.headers['access-control-allow-methods'])).toContain('DELETE');

      for (const [method, path] of [
        ['DELETE', '/spawns/x'],
        ['POST', '/spawn'],
        ['GET', '/spawns'],
      ]) {
        const refused = await preflight(OTHER, method, path);
        expect({ method, path, status: refused.status }).toEqual({ method, path, status: 204 });
        expect(refused.headers['access-control-allow-origin']).toBeUndefined();
        expect(refused.headers['access-control-allow-methods']).toBeUndefined();
      }

      // A "simple" cross-origin POST (text/plain) needs no preflight: it is refused before any route.
      const blind = await rawRequest(app.url, 'POST', '/api/spawn', '{"class":"csr_session"}', {
        origin: OTHER,
        'content-type': 'text/plain',
      });
      expect(blind.status).toBe(403);
      expect(blind.json().message).toMatch(/not in CORS_ORIGINS/);
      expect(app.supervisor.list()).toEqual([]);

      const get = await rawRequest(app.url, 'GET', '/health', undefined, { origin: OTHER });
      expect(get.status).toBe(200);
      expect(get.headers['access-control-allow-origin']).toBeUndefined();
      const listed = await rawRequest(app.url, 'GET', '/health', undefined, { origin: ALLOWED });
      expect(listed.headers['access-control-allow-origin']).toBe(ALLOWED);

      // The service's own pages (same origin) are not foreign.
      const own = await rawRequest(app.url, 'DELETE', '/spawns/none', undefined, { origin: app.url });
      expect(own.status).toBe(404);
      const port = new URL(app.url).port;
      const local = { origin: `http://localhost:${port}`, host: `localhost:${port}` };
      expect((await rawRequest(app.url, 'DELETE', '/spawns/none', undefined, local)).status).toBe(404);
      // A page of a name that was made to resolve here (DNS rebinding) sends an Origin and a Host that agree: that
      // name was never given to the service, so the page is foreign.
      const rebound = { origin: `http://evil.example:${port}`, host: `evil.example:${port}` };
      const refused = await rawRequest(app.url, 'DELETE', '/spawns/none', undefined, rebound);
      expect(refused.status).toBe(403);
      expect(refused.json().message).toMatch(/not in CORS_ORIGINS/);
    });

    it('default *: any origin', async () => {
      const app = await startTrackedApp(cleanup, ENV);
      const answer = await rawRequest(app.url, 'OPTIONS', '/spawns/x', undefined, {
        origin: OTHER,
        'access-control-request-method': 'DELETE',
      });
      expect(answer.status).toBe(204);
      expect(answer.headers['access-control-allow-origin']).toBe(OTHER);
    });
  });

  describe('SPAWN_RATE_LIMIT', () => {
    const invalid = (app: TrackedApp, path: string, headers: Record<string, string> = {}) =>
      rawRequest(app.url, 'POST', path, '{"class":"no-such-class","bogus":1}', {
        'content-type': 'application/json',
        ...headers,
      });

    it('429 with Retry-After once a client has used its budget, on every spawn route (HOOPS shape there)', async () => {
      const app = await startTrackedApp(cleanup, { ...ENV, SPAWN_RATE_LIMIT: '2/30s' });
      expect((await invalid(app, '/spawn')).status).toBe(400);
      expect((await invalid(app, '/api/spawn')).status).toBe(400);
      const limited = await invalid(app, '/spawn');
      expect(limited.status).toBe(429);
      const retryAfter = Number(limited.headers['retry-after']);
      expect(Number.isInteger(retryAfter)).toBe(true);
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(30);
      expect(limited.json()).toEqual({
        statusCode: 429,
        message: expect.stringMatching(/too many spawn requests.*at most 2 per 30 s/),
        error: 'Too Many Requests',
      });
      // docs/api.md: past the budget, the 429 carries the X-RateLimit-* headers too (the budget spent, and when
      // it comes back, as Retry-After).
      expect(limited.headers['x-ratelimit-limit']).toBe('2');
      expect(limited.headers['x-ratelimit-remaining']).toBe('0');
      expect(limited.headers['x-ratelimit-reset']).toBe(limited.headers['retry-after']);
      const hoops = await invalid(app, '/service');
      expect(hoops.status).toBe(429);
      expect(Number(hoops.headers['retry-after'])).toBeGreaterThan(0);
      expect(hoops.json()).toEqual({ status: 'failed', reason: expect.stringMatching(/too many spawn requests/) });
      // Only the spawn routes are limited.
      for (let i = 0; i < 5; i++) expect((await rawRequest(app.url, 'GET', '/spawns')).status).toBe(200);
      // X-Forwarded-For is not believed without TRUST_PROXY.
      expect((await invalid(app, '/spawn', { 'x-forwarded-for': '203.0.113.7' })).status).toBe(429);
    });

    it('with TRUST_PROXY the client address comes from X-Forwarded-For: one budget per client', async () => {
      const app = await startTrackedApp(cleanup, { ...ENV, SPAWN_RATE_LIMIT: '1/30s', TRUST_PROXY: 'true' });
      const from = (ip: string) => ({ 'x-forwarded-for': ip });
      expect((await invalid(app, '/spawn', from('203.0.113.7'))).status).toBe(400);
      expect((await invalid(app, '/spawn', from('203.0.113.7'))).status).toBe(429);
      expect((await invalid(app, '/spawn', from('203.0.113.8'))).status).toBe(400);
      // The address the proxy appended (the last one) counts, not one a client put in front.
      expect((await invalid(app, '/spawn', from('198.51.100.1, 203.0.113.8'))).status).toBe(429);
    });
  });
});

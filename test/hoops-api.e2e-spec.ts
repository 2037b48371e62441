/**
 * End to end, with real simulator processes, real HTTP and real WebSockets: the HOOPS Server spawning
 * API (POST /api/spawn, POST /service, GET /api/status, GET /api/spawns, POST /api/spawns/:id), as the
 * two kinds of existing viewer clients use it from a browser page on another origin (CORS included),
 * its error contract ({status: "failed", reason}), client model folders, Swagger, and the license never
 * showing in any response or log line.
 */
import { mkdirSync, realpathSync, symlinkSync, writeFileSync, chmodSync } from 'fs';
import { join } from 'path';
import request from 'supertest';
import { SPAWN_STATES } from '../src/supervisor/rules/spawn-state';
import { useCleanup } from './support/processes';
import { freePort } from './support/ports';
import { FAST_TIMINGS, startServiceProcess, type ServiceProcess } from './support/spawner-app';
import {
  argAfter,
  getSpawn,
  procArgv,
  rawRequest,
  startTrackedApp,
  waitForProcessGone,
  waitForSpawnState,
  type RawResponse,
} from './support/spawner-e2e';
import { SIM_EXECUTABLE } from './support/simulator';
import { openSse } from './support/sse-client';
import { makeTempDir } from './support/temp';
import { connectViewer, type ViewerClient } from './support/viewer-client';
import { waitFor } from './support/wait';
import { RETRY_AFTER_AT_CAPACITY_S } from '../src/http/http-error';

/** This file's WebSocket port ranges (the events e2e file uses 23100-23199). */
const PORT_BASE = 23000;
const PORT_COUNT = 40;
const SERVICE_PORT_BASE = 23050;
const ENV = { ...FAST_TIMINGS, SC_PORT_BASE: String(PORT_BASE), SC_PORT_COUNT: String(PORT_COUNT) };

const BROWSER_ORIGIN = 'http://viewer-app.example:8080';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface HoopsOk {
  result: 'ok';
  serviceId: string;
  endpoints: { ws: string };
}

interface BrowserResponse extends RawResponse {
  preflight?: RawResponse;
}

/**
 * A POST the way a browser page on `origin` sends it: non-simple request headers make it preflight
 * (OPTIONS) first, and the browser refuses to go on, or to hand the response to the page, unless the
 * CORS headers allow it. Throws, like fetch() does, when CORS blocks the request.
 */
async function browserPost(
  url: string,
  path: string,
  origin: string,
  body: string | undefined,
  headers: Record<string, string>,
): Promise<BrowserResponse> {
  const safelisted = new Set(['accept', 'accept-language', 'content-language']);
  const nonSimple = Object.keys(headers)
    .map((h) => h.toLowerCase())
    .filter(
      (h) =>
        !safelisted.has(h) &&
        !(
          h === 'content-type' &&
          /^(text\/plain|application\/x-www-form-urlencoded|multipart\/form-data)/.test(headers[h])
        ),
    )
    .sort();
  let preflight: RawResponse | undefined;
  if (nonSimple.length > 0) {
    preflight = await rawRequest(url, 'OPTIONS', path, undefined, {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': nonSimple.join(','),
    });
    const allowOrigin = preflight.headers['access-control-allow-origin'];
    const allowedHeaders = String(preflight.headers['access-control-allow-headers'] ?? '')
      .split(',')
      .map((h) => h.trim().toLowerCase());
    if (preflight.status < 200 || preflight.status > 299)
      throw new Error(`CORS preflight failed with ${preflight.status}`);
    if (allowOrigin !== origin && allowOrigin !== '*')
      throw new Error(`CORS preflight: origin ${origin} not allowed (${allowOrigin})`);
    for (const h of nonSimple) {
      if (!allowedHeaders.includes(h) && !allowedHeaders.includes('*'))
        throw new Error(`CORS preflight: request header ${h} not allowed (${allowedHeaders.join(', ')})`);
    }
  }
  const response = await rawRequest(url, 'POST', path, body, { ...headers, origin });
  const allowOrigin = response.headers['access-control-allow-origin'];
  if (allowOrigin !== origin && allowOrigin !== '*')
    throw new Error(`CORS: the response to ${origin} carries no matching Access-Control-Allow-Origin (${allowOrigin})`);
  return Object.assign(response, { preflight });
}

/**
 * The legacy browser broker: POST /service with the legacy keys (which the service must accept and
 * ignore), Content-Type: application/json and an `Access-Control-Allow-Origin: *` *request* header,
 * as those pages send it.
 */
function legacyBrokerStart(
  url: string,
  params: { model?: string; sessionToken?: string; modelSearchDirectories?: string[] },
  sessionClass = 'csr_session',
): Promise<BrowserResponse> {
  const body = JSON.stringify({
    class: sessionClass,
    params: {
      readyEndpoint: 'http://broker.example/ready',
      statusEndpoint: 'http://broker.example/status',
      disconnectEndpoint: 'http://broker.example/disconnect',
      statusUpdateFrequency: '5',
      ...params,
    },
  });
  return browserPost(url, '/service', BROWSER_ORIGIN, body, {
    'Content-Type': 'application/json',
    'Access-Control-Allow-Origin': '*',
  });
}

/** The newer ServerConnection: POST /api/spawn with a JSON body. */
function serverConnectionStart(
  url: string,
  body: object = { class: 'csr_session', params: {} },
): Promise<BrowserResponse> {
  return browserPost(url, '/api/spawn', BROWSER_ORIGIN, JSON.stringify(body), { 'Content-Type': 'application/json' });
}

/** What every such client does with the answer: result "ok" and the endpoint, or the reason. */
function readSpawnAnswer(response: RawResponse): HoopsOk {
  const body = response.json();
  if (response.status !== 200 || body.result !== 'ok')
    throw new Error(`spawn failed (${response.status}): ${body.reason}`);
  expect(typeof body.serviceId).toBe('string');
  expect(typeof body.endpoints?.ws).toBe('string');
  return body as HoopsOk;
}

/** A HOOPS failure body: exactly {status: "failed", reason}, never Nest's {statusCode, message, error}. */
function expectFailed(
  response: { status: number; body: unknown } | RawResponse,
  status: number,
  reason?: RegExp,
): string {
  const body = 'json' in response && typeof response.body === 'string' ? response.json() : response.body;
  expect(response.status).toBe(status);
  expect(body).toEqual({ status: 'failed', reason: expect.any(String) });
  if (reason) expect(body.reason).toMatch(reason);
  return body.reason as string;
}

function wsPortOf(endpoint: string): number {
  return Number(new URL(endpoint).port);
}

describe('HOOPS Server spawning API (e2e)', () => {
  const cleanup = useCleanup();

  async function viewerHello(
    endpoint: string,
    sessionToken?: string,
  ): Promise<{ viewer: ViewerClient; hello: Record<string, unknown> }> {
    const viewer = await connectViewer(endpoint, { cleanup });
    if (sessionToken !== undefined) await viewer.send(JSON.stringify({ sessionToken }));
    const hello = await viewer.nextJson();
    return { viewer, hello };
  }

  describe('clients written for the HOOPS Server', () => {
    it('legacy browser broker: POST /service with legacy keys and non-simple headers, then a WebSocket with the session token gets the hello', async () => {
      const app = await startTrackedApp(cleanup, ENV);
      const response = await legacyBrokerStart(app.url, { model: 'microengine', sessionToken: 'broker-tok-1' });
      expect(response.preflight?.status).toBe(204);
      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      expect(response.headers['access-control-allow-origin']).toBe(BROWSER_ORIGIN);
      const answer = readSpawnAnswer(response);
      // The HOOPS keys, plus the scale-out extras every spawn answer carries (issue 11): node and links.
      expect(Object.keys(response.json()).sort()).toEqual(['endpoints', 'links', 'node', 'result', 'serviceId']);
      expect(answer.serviceId).toMatch(UUID);
      expect(answer.endpoints.ws).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
      expect(wsPortOf(answer.endpoints.ws)).toBeGreaterThanOrEqual(PORT_BASE);
      expect(wsPortOf(answer.endpoints.ws)).toBeLessThan(PORT_BASE + PORT_COUNT);

      // Answered only once ready; the model and the token reached the server's command line.
      const view = await getSpawn(app.url, answer.serviceId);
      expect(view.state).toBe('ready');
      const argv = procArgv(view.pid!);
      expect(argAfter(argv, '--model-file')).toBe('microengine');
      expect(argAfter(argv, '--session-token')).toBe('broker-tok-1');
      // The legacy endpoints are ignored: the server reports to this service, not to the broker.
      expect(argAfter(argv, '--liveliness-endpoint')).toBe(`${app.url}/liveliness`);
      expect(argv.join(' ')).not.toContain('broker.example');

      const { viewer, hello } = await viewerHello(answer.endpoints.ws, 'broker-tok-1');
      expect(hello).toEqual({
        type: 'hello',
        id: answer.serviceId,
        model: 'microengine',
        modelFound: true,
        rendererType: 'csr',
        sessionToken: true,
      });
      await viewer.send('echo me');
      expect((await viewer.next()).text).toBe('echo me');
      await viewer.close();
      await waitForProcessGone(view.pid!);
      await waitForSpawnState(app.url, answer.serviceId, 'exited');
    });

    it('legacy browser broker: a failure is a non-200 whose `reason` it can show (exit code and meaning)', async () => {
      const app = await startTrackedApp(cleanup, ENV);
      const response = await legacyBrokerStart(app.url, { model: 'scsim:exit-before-ready:6', sessionToken: 'tok' });
      expect(response.headers['access-control-allow-origin']).toBe(BROWSER_ORIGIN);
      expect(() => readSpawnAnswer(response)).toThrow(/spawn failed \(500\): .*exit code 6.*invalid license/);
    });

    it('ServerConnection: POST /api/spawn {"class":"csr_session","params":{}}, then a WebSocket to endpoints.ws gets the hello', async () => {
      const app = await startTrackedApp(cleanup, ENV);
      const response = await serverConnectionStart(app.url);
      expect(response.status).toBe(200);
      expect(response.headers['access-control-allow-origin']).toBe(BROWSER_ORIGIN);
      const answer = readSpawnAnswer(response);
      expect(answer.result).toBe('ok');
      const { viewer, hello } = await viewerHello(answer.endpoints.ws);
      expect(hello).toEqual({
        type: 'hello',
        id: answer.serviceId,
        model: null,
        modelFound: false,
        rendererType: 'csr',
        sessionToken: false,
      });
      await viewer.close();
      await waitForSpawnState(app.url, answer.serviceId, 'exited');
    });

    it('an empty body (none at all, or {}) on either route starts a CSR session', async () => {
      const app = await startTrackedApp(cleanup, ENV);
      const noBody = await rawRequest(app.url, 'POST', '/api/spawn');
      const emptyJson = await rawRequest(app.url, 'POST', '/service', '{}');
      const emptyText = await rawRequest(app.url, 'POST', '/service', '', { 'content-type': 'application/json' });
      for (const response of [noBody, emptyJson, emptyText]) {
        const answer = readSpawnAnswer(response);
        const { viewer, hello } = await viewerHello(answer.endpoints.ws);
        expect(hello).toMatchObject({ type: 'hello', id: answer.serviceId, rendererType: 'csr' });
        expect(argAfter(procArgv((await getSpawn(app.url, answer.serviceId)).pid!), '--csr')).toBe('true');
        await viewer.close();
      }
    });

    it('a JSON body sent as text/plain (a simple request, no preflight) is read as JSON; invalid text is a 400 with a reason', async () => {
      const app = await startTrackedApp(cleanup, ENV);
      const body = JSON.stringify({ class: 'ssr_session', params: { model: 'bnc' } });
      const answer = readSpawnAnswer(
        await rawRequest(app.url, 'POST', '/service', body, { 'content-type': 'text/plain;charset=UTF-8' }),
      );
      const { viewer, hello } = await viewerHello(answer.endpoints.ws);
      expect(hello).toMatchObject({ id: answer.serviceId, rendererType: 'ssr', model: 'bnc' });
      await viewer.close();
      const bad = await rawRequest(app.url, 'POST', '/api/spawn', '{"class":', { 'content-type': 'text/plain' });
      expect(bad.status).toBe(400);
      expect(JSON.parse(bad.body)).toEqual({ status: 'failed', reason: expect.stringContaining('not valid JSON') });
    });

    it('the SSR class reaches the server as SSR', async () => {
      const app = await startTrackedApp(cleanup, ENV);
      const answer = readSpawnAnswer(
        await serverConnectionStart(app.url, { class: 'ssr_session', params: { model: 'bnc' } }),
      );
      const view = await getSpawn(app.url, answer.serviceId);
      expect(view.rendererType).toBe('ssr');
      const argv = procArgv(view.pid!);
      expect(argAfter(argv, '--ssr')).toBe('true');
      expect(argv).not.toContain('--csr');
      const { viewer, hello } = await viewerHello(answer.endpoints.ws);
      expect(hello).toMatchObject({ id: answer.serviceId, rendererType: 'ssr', model: 'bnc', modelFound: true });
      await viewer.close();
    });
  });

  describe('CORS', () => {
    const preflightHeaders = (origin: string) => ({
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type,access-control-allow-origin',
    });

    it('answers a real preflight with 204, allowing POST, GET, DELETE, OPTIONS and the requested headers, and starts nothing', async () => {
      const app = await startTrackedApp(cleanup, ENV);
      for (const path of ['/service', '/api/spawn', '/api/status', '/api/spawns', '/events']) {
        const preflight = await rawRequest(app.url, 'OPTIONS', path, undefined, preflightHeaders(BROWSER_ORIGIN));
        expect(preflight.status).toBe(204);
        expect(preflight.body).toBe('');
        expect([BROWSER_ORIGIN, '*']).toContain(preflight.headers['access-control-allow-origin']);
        const methods = String(preflight.headers['access-control-allow-methods'])
          .split(',')
          .map((m) => m.trim());
        expect(methods).toEqual(expect.arrayContaining(['POST', 'GET', 'DELETE', 'OPTIONS']));
        const allowed = String(preflight.headers['access-control-allow-headers'])
          .split(',')
          .map((h) => h.trim().toLowerCase());
        expect(allowed).toEqual(expect.arrayContaining(['content-type', 'access-control-allow-origin']));
      }
      // Other Access-Control-* names legacy pages send as request headers are allowed too.
      const more = await rawRequest(app.url, 'OPTIONS', '/service', undefined, {
        ...preflightHeaders(BROWSER_ORIGIN),
        'access-control-request-headers':
          'content-type,access-control-allow-origin,access-control-allow-headers,access-control-allow-methods',
      });
      expect(more.status).toBe(204);
      expect(
        String(more.headers['access-control-allow-headers'])
          .toLowerCase()
          .split(/\s*,\s*/),
      ).toEqual(expect.arrayContaining(['access-control-allow-headers', 'access-control-allow-methods']));
      expect(app.supervisor.list()).toEqual([]);
      expect(app.knownPids()).toEqual([]);

      // The actual responses, errors included, carry the header too (a browser hides the body otherwise).
      const status = await rawRequest(app.url, 'GET', '/api/status', undefined, { origin: BROWSER_ORIGIN });
      expect(status.headers['access-control-allow-origin']).toBe(BROWSER_ORIGIN);
      const refused = await browserPost(app.url, '/api/spawn', BROWSER_ORIGIN, '{"class":"gpu_session"}', {
        'Content-Type': 'application/json',
      });
      expectFailed(refused, 400, /class/);
      expect(refused.headers['access-control-allow-origin']).toBe(BROWSER_ORIGIN);
      expect(String(refused.headers['access-control-expose-headers'])).toMatch(/Retry-After/i);
    });

    it('with CORS_ORIGINS=http://a.example allows only that origin', async () => {
      const app = await startTrackedApp(cleanup, { ...ENV, CORS_ORIGINS: 'http://a.example' });
      const allowed = await rawRequest(app.url, 'OPTIONS', '/service', undefined, preflightHeaders('http://a.example'));
      expect(allowed.status).toBe(204);
      expect(allowed.headers['access-control-allow-origin']).toBe('http://a.example');
      expect(String(allowed.headers['access-control-allow-headers']).toLowerCase()).toContain(
        'access-control-allow-origin',
      );

      const other = await rawRequest(app.url, 'OPTIONS', '/service', undefined, preflightHeaders('http://b.example'));
      expect(other.headers['access-control-allow-origin']).toBeUndefined();
      await expect(serverConnectionStartFrom(app.url, 'http://b.example')).rejects.toThrow(
        /CORS preflight: origin http:\/\/b\.example not allowed/,
      );
      const otherGet = await rawRequest(app.url, 'GET', '/api/status', undefined, { origin: 'http://b.example' });
      expect(otherGet.headers['access-control-allow-origin']).toBeUndefined();
      expect(app.supervisor.list()).toEqual([]); // the blocked browser never sent its POST

      const answer = readSpawnAnswer(await serverConnectionStartFrom(app.url, 'http://a.example'));
      const { viewer, hello } = await viewerHello(answer.endpoints.ws);
      expect(hello).toMatchObject({ id: answer.serviceId });
      await viewer.close();
    });

    function serverConnectionStartFrom(url: string, origin: string): Promise<BrowserResponse> {
      return browserPost(url, '/api/spawn', origin, JSON.stringify({ class: 'csr_session', params: {} }), {
        'Content-Type': 'application/json',
      });
    }
  });

  describe('failures: {status: "failed", reason} with the right status', () => {
    it('403 when SSR is disabled (and when CSR is disabled, for an absent class); nothing starts', async () => {
      const app = await startTrackedApp(cleanup, { ...ENV, SSR_ENABLED: 'false' });
      expectFailed(
        await request(app.url).post('/api/spawn').send({ class: 'ssr_session', params: {} }),
        403,
        /SSR.*disabled/,
      );
      expectFailed(await request(app.url).post('/service').send({ class: 'ssr_session' }), 403, /SSR.*disabled/);
      expect(app.knownPids()).toEqual([]);
      expect(app.supervisor.list()).toEqual([]);

      const noCsr = await startTrackedApp(cleanup, { ...ENV, CSR_ENABLED: 'false' });
      expectFailed(await request(noCsr.url).post('/api/spawn').send({}), 403, /CSR.*disabled/);
      expect(noCsr.supervisor.list()).toEqual([]);
    });

    it('503 with Retry-After at capacity (SC_MAX_SPAWNS=1); the running session is untouched', async () => {
      const app = await startTrackedApp(cleanup, { ...ENV, SC_MAX_SPAWNS: '1' });
      const first = readSpawnAnswer(await serverConnectionStart(app.url));
      const second = await serverConnectionStart(app.url);
      expectFailed(second, 503, /slot/);
      expect(Number(second.headers['retry-after'])).toBe(RETRY_AFTER_AT_CAPACITY_S);
      const legacy = await legacyBrokerStart(app.url, {});
      expectFailed(legacy, 503);
      expect(Number(legacy.headers['retry-after'])).toBe(RETRY_AFTER_AT_CAPACITY_S);
      expect(app.supervisor.list().map((r) => r.id)).toEqual([first.serviceId]);
      expect((await getSpawn(app.url, first.serviceId)).state).toBe('ready');
    });

    it('500 when the server fails to start, naming exit code 6 and its meaning', async () => {
      const app = await startTrackedApp(cleanup, ENV);
      for (const path of ['/api/spawn', '/service']) {
        const response = await request(app.url)
          .post(path)
          .send({ params: { model: 'scsim:exit-before-ready:6' } });
        const reason = expectFailed(response, 500);
        expect(reason).toMatch(/exit code 6/);
        expect(reason).toMatch(/invalid license/);
      }
      const ended = app.supervisor.list();
      expect(ended).toHaveLength(2);
      for (const record of ended) {
        expect(record.state).toBe('failed');
        await waitForProcessGone(record.pid!);
      }
      expect(app.supervisor.capacity().activeSpawns).toBe(0);
    });

    it('504 when the server is not ready within SPAWN_READY_TIMEOUT_S; it is stopped', async () => {
      const app = await startTrackedApp(cleanup, { ...ENV, SPAWN_READY_TIMEOUT_S: '1' });
      const started = Date.now();
      const response = await request(app.url)
        .post('/api/spawn')
        .send({ class: 'csr_session', params: { model: 'scsim:never-ready' } });
      expectFailed(response, 504, /ready within 1 s/);
      expect(Date.now() - started).toBeLessThan(5000);
      const [record] = app.supervisor.list();
      await waitForProcessGone(record.pid!);
      await waitForSpawnState(app.url, record.id, 'exited');
    });

    it.each<[string, object, RegExp]>([
      ['an unknown class', { class: 'gpu_session' }, /class must be one of csr_session, ssr_session/],
      ['a non-string class', { class: 7 }, /class must be one of/],
      ['params that are not an object', { params: 'model=x' }, /params must be an object/],
      [
        'a non-array modelSearchDirectories',
        { params: { modelSearchDirectories: '/srv/models' } },
        /modelSearchDirectories must be an array/,
      ],
      [
        'a non-string modelSearchDirectories entry',
        { params: { modelSearchDirectories: [7] } },
        /modelSearchDirectories must contain only strings/,
      ],
      [
        'a path-traversal model',
        { params: { model: '../../etc/passwd' } },
        /params\.model must be a plain relative model name/,
      ],
      ['a model that looks like an option', { params: { model: '--license-file' } }, /params\.model/],
      ['a session token with a space', { params: { sessionToken: 'a b' } }, /params\.sessionToken must be/],
      ['a body that is a JSON array', [1, 2], /must be a JSON object/],
    ])('400 for %s, and nothing starts', async (_what, body, reason) => {
      const app = await startTrackedApp(cleanup, ENV);
      for (const path of ['/api/spawn', '/service']) {
        expectFailed(await request(app.url).post(path).send(body), 400, reason);
      }
      expect(app.supervisor.list()).toEqual([]);
    });

    it('400 in the failed shape for malformed JSON, on both routes however they are spelled (never a Nest-shaped body)', async () => {
      const app = await startTrackedApp(cleanup, ENV);
      // Express also routes these spellings to the same handlers.
      for (const path of ['/api/spawn', '/service', '/service/', '/api/spawn/', '/API/Spawn', '/Service']) {
        const malformed = await rawRequest(app.url, 'POST', path, '{"class": "csr_session",');
        expect(malformed.headers['content-type']).toMatch(/application\/json/);
        expectFailed(malformed, 400);
        expect(malformed.body).not.toMatch(/statusCode|at .*\.js:\d+/);
        expectFailed(await rawRequest(app.url, 'POST', path, '{"class":"bogus"}'), 400, /class/);
      }
      // Too large for the body parser: still the failed shape.
      const huge = await rawRequest(
        app.url,
        'POST',
        '/service',
        JSON.stringify({ params: { model: 'x'.repeat(2_000_000) } }),
      );
      expectFailed(huge, 413);
      expect(app.supervisor.list()).toEqual([]);
    });
  });

  describe('modelSearchDirectories', () => {
    /** A model root with `projects/alpha/widget.scz`, a sibling outside it, and the service configured with it. */
    function modelTree(): { root: string; alpha: string; outside: string } {
      const base = realpathSync(makeTempDir(cleanup, 'sc-hoops-models-'));
      const root = join(base, 'models');
      const alpha = join(root, 'projects', 'alpha');
      mkdirSync(alpha, { recursive: true });
      writeFileSync(join(alpha, 'widget.scz'), 'not really a model\n');
      const outside = join(base, 'models-outside');
      mkdirSync(outside);
      writeFileSync(join(outside, 'widget.scz'), 'outside\n');
      return { root, alpha, outside };
    }

    it('honours a folder inside SC_MODEL_DIRS: it goes first on the command line and the server finds the model there', async () => {
      const { root, alpha } = modelTree();
      const app = await startTrackedApp(cleanup, { ...ENV, SC_MODEL_DIRS: root });

      // Control: the model is not at the top of the root, so without the folder it is not found.
      const without = readSpawnAnswer(await serverConnectionStart(app.url, { params: { model: 'widget' } }));
      const first = await viewerHello(without.endpoints.ws);
      expect(first.hello).toMatchObject({ model: 'widget', modelFound: false });
      await first.viewer.close();

      const answer = readSpawnAnswer(
        await legacyBrokerStart(app.url, {
          model: 'widget',
          modelSearchDirectories: [alpha, join(root, 'projects', '..', 'projects', 'alpha')],
        }),
      );
      const argv = procArgv((await getSpawn(app.url, answer.serviceId)).pid!);
      expect(argAfter(argv, '--model-search-directories')).toBe(`${alpha};${root}`);
      const { viewer, hello } = await viewerHello(answer.endpoints.ws);
      expect(hello).toMatchObject({ id: answer.serviceId, model: 'widget', modelFound: true });
      await viewer.close();
    });

    it('honours a folder inside SC_ALLOWED_MODEL_ROOTS (a : list)', async () => {
      const { root, alpha } = modelTree();
      const other = realpathSync(makeTempDir(cleanup, 'sc-hoops-other-'));
      const app = await startTrackedApp(cleanup, {
        ...ENV,
        SC_MODEL_DIRS: other,
        SC_ALLOWED_MODEL_ROOTS: `${other}:${root}`,
      });
      const answer = readSpawnAnswer(
        await serverConnectionStart(app.url, {
          class: 'csr_session',
          params: { model: 'widget', modelSearchDirectories: [alpha] },
        }),
      );
      expect(argAfter(procArgv((await getSpawn(app.url, answer.serviceId)).pid!), '--model-search-directories')).toBe(
        `${alpha};${other}`,
      );
      const { viewer, hello } = await viewerHello(answer.endpoints.ws);
      expect(hello).toMatchObject({ model: 'widget', modelFound: true });
      await viewer.close();
    });

    it('refuses folders outside the allowed roots, escapes, symlinks out, unusable and nonexistent folders with 400 and one generic reason', async () => {
      const { root, alpha, outside } = modelTree();
      symlinkSync(outside, join(root, 'link-out'));
      symlinkSync('/etc', join(root, 'link-etc'));
      mkdirSync(join(root, 'semi;colon'));
      symlinkSync(join(root, 'semi;colon'), join(root, 'link-semi'));
      const app = await startTrackedApp(cleanup, { ...ENV, SC_MODEL_DIRS: root });
      // Outside the roots, missing, or leading out of them: the same words, so nothing about the host shows.
      const notAllowed = (dir: string) =>
        new RegExp(
          `^modelSearchDirectories entry ${JSON.stringify(dir).replace(/[/.*+?^${}()|[\]\\]/g, '\\$&')} is not an allowed model folder on this server$`,
        );
      const cases: Array<[string[], RegExp]> = [
        [['/etc'], notAllowed('/etc')],
        [[outside], notAllowed(outside)],
        [[`${root}/../models-outside`], notAllowed(`${root}/../models-outside`)],
        [[`${root}/projects/../../models-outside`], notAllowed(`${root}/projects/../../models-outside`)],
        [[join(root, 'link-out')], notAllowed(join(root, 'link-out'))],
        [[join(root, 'link-etc')], notAllowed(join(root, 'link-etc'))],
        [[alpha, '/etc'], notAllowed('/etc')], // one bad entry refuses the request
        [[join(root, 'does-not-exist')], notAllowed(join(root, 'does-not-exist'))],
        [['/no/such/folder'], notAllowed('/no/such/folder')],
        [[''], /not a usable folder/],
        [[join(root, 'semi;colon')], /not a usable folder/],
        // Its real path holds the search-path separator: passed on, it would split into other folders.
        [[join(root, 'link-semi')], notAllowed(join(root, 'link-semi'))],
        [['-x'], /modelSearchDirectories entries must be folder paths .* not starting with '-'/],
        [[`${root}/a\nb`], /modelSearchDirectories entries must be .*without NUL or line breaks/],
      ];
      for (const [dirs, reason] of cases) {
        for (const path of ['/api/spawn', '/service']) {
          const response = await request(app.url)
            .post(path)
            .send({ params: { model: 'widget', modelSearchDirectories: dirs } });
          expectFailed(response, 400, reason);
        }
      }
      expect(app.supervisor.list()).toEqual([]);
      expect(app.supervisor.capacity().activeSpawns).toBe(0);
    });
  });

  describe('status, spawn list and liveliness', () => {
    it('GET /api/status: counts, per-state counts and the configuration, never the license', async () => {
      const app = await startTrackedApp(cleanup, { ...ENV, SC_MAX_SPAWNS: '3', SC_LICENSE: 'LIC-STATUS-5e2d71' });
      const empty = (await request(app.url).get('/api/status').expect(200)).body;
      expect(empty).toMatchObject({
        status: 'ok',
        usedSpawnPorts: 0,
        availableSpawnPorts: PORT_COUNT,
        activeSpawns: 0,
        maxSpawns: 3,
      });

      const ready = readSpawnAnswer(await serverConnectionStart(app.url));
      await request(app.url)
        .post('/api/spawn')
        .send({ params: { model: 'scsim:exit-before-ready:4' } })
        .expect(500);
      const before = Date.now();
      const response = await request(app.url).get('/api/status').set('Origin', BROWSER_ORIGIN).expect(200);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      const status = response.body;
      expect(status).toMatchObject({
        status: 'ok',
        timestamp: expect.any(String),
        usedSpawnPorts: 1,
        availableSpawnPorts: PORT_COUNT - 1,
        activeSpawns: 1,
        maxSpawns: 3,
        config: expect.objectContaining({
          maxSpawns: 3,
          spawnPortBase: PORT_BASE,
          spawnPortCount: PORT_COUNT,
          ssrEnabled: true,
          csrEnabled: true,
        }),
      });
      expect(Math.abs(Date.parse(status.timestamp) - before)).toBeLessThan(5000);
      // A count for every state.
      const counts = status.spawnsByState;
      expect(Object.keys(counts).sort()).toEqual([...SPAWN_STATES].sort());
      for (const state of SPAWN_STATES) expect(typeof counts[state]).toBe('number');
      expect(counts).toMatchObject({ ready: 1, failed: 1, starting: 0, exited: 0 });
      const text = JSON.stringify(status);
      expect(text).not.toContain('LIC-STATUS-5e2d71');
      expect(text).not.toContain('5e2d71');
      await request(app.url).delete(`/spawns/${ready.serviceId}`).expect(202);
    });

    it('GET /api/spawns: {timestamp, spawns: [{id, state, spawnTime, lastUpdateTime, ...}]}, live spawns only', async () => {
      const app = await startTrackedApp(cleanup, ENV);
      const empty = (await request(app.url).get('/api/spawns').expect(200)).body;
      expect(empty).toEqual({ timestamp: expect.any(String), spawns: [] });

      const answer = readSpawnAnswer(await serverConnectionStart(app.url, { params: { model: 'bnc' } }));
      const before = Date.now();
      const list = (await request(app.url).get('/api/spawns').set('Origin', BROWSER_ORIGIN).expect(200)).body;
      expect(Math.abs(Date.parse(list.timestamp) - before)).toBeLessThan(5000);
      expect(list.spawns).toHaveLength(1);
      const [entry] = list.spawns;
      expect(entry).toMatchObject({
        id: answer.serviceId,
        state: 'ready',
        spawnTime: expect.any(String),
        lastUpdateTime: expect.any(String),
      });
      expect(new Date(entry.spawnTime).toISOString()).toBe(entry.spawnTime);
      expect(Date.parse(entry.lastUpdateTime)).toBeGreaterThanOrEqual(Date.parse(entry.spawnTime));

      // Once it has ended it is dropped, as the HOOPS Server drops dead spawns (GET /spawns still shows it).
      await request(app.url).delete(`/spawns/${answer.serviceId}`).expect(202);
      await waitForSpawnState(app.url, answer.serviceId, 'exited');
      expect((await request(app.url).get('/api/spawns').expect(200)).body.spawns).toEqual([]);
      const ended = (await request(app.url).get('/spawns').expect(200)).body;
      expect(ended).toEqual([expect.objectContaining({ id: answer.serviceId, state: 'exited' })]);
    });

    it('POST /api/spawns/:id?liveliness=...: another local process cannot keep a silent server alive (403); 400 and 404 as at /liveliness/:id', async () => {
      const app = await startTrackedApp(cleanup, ENV); // PING_TIMEOUT_S=1
      // A server that reports ready, then never again: reports from this test (not the server's processes) are refused.
      const answer = readSpawnAnswer(
        await serverConnectionStart(app.url, { params: { model: 'scsim:stop-pinging-after:0' } }),
      );
      const id = answer.serviceId;
      const ping = await request(app.url).post(`/api/spawns/${id}?liveliness=ping`);
      expect(ping.status).toBe(403);
      expect(JSON.stringify(ping.body)).toMatch(/accepted only from that server's own processes/);
      expect((await request(app.url).post(`/api/spawns/${id}?liveliness=disconnect`)).status).toBe(403);

      const unknown = '00000000-0000-4000-8000-000000000000';
      const bogus = await request(app.url).post(`/api/spawns/${unknown}?liveliness=bogus`);
      expect(bogus.status).toBe(400);
      expect(JSON.stringify(bogus.body)).toMatch(/liveliness must be one of/);
      expect((await request(app.url).post(`/api/spawns/${unknown}`)).status).toBe(400);
      expect((await request(app.url).post(`/api/spawns/${unknown}?liveliness=ping`)).status).toBe(404);

      // Without reports of its own it is stopped as unresponsive (refused reports do not count).
      const stopped = await waitForSpawnState(app.url, id, ['unresponsive', 'terminating', 'exited'], 5000);
      expect(stopped.endReason).toMatch(/no liveliness report/);
      await waitForSpawnState(app.url, id, 'exited');
    });
  });

  it('documents the HOOPS API, events and logs in /docs-json, with both error shapes', async () => {
    const app = await startTrackedApp(cleanup, ENV);
    const doc = (await request(app.url).get('/docs-json').expect(200)).body;
    const operations: Array<[string, string]> = [
      ['/api/spawn', 'post'],
      ['/service', 'post'],
      ['/api/status', 'get'],
      ['/api/spawns', 'get'],
      ['/api/spawns/{id}', 'post'],
      ['/events', 'get'],
      ['/spawns/{id}/events', 'get'],
      ['/spawns/{id}/logs', 'get'],
    ];
    for (const [path, method] of operations) expect(doc.paths[path]?.[method]).toBeDefined();
    const schemas = doc.components.schemas;
    expect(schemas.HoopsFailureDto.properties).toEqual(
      expect.objectContaining({ status: expect.anything(), reason: expect.anything() }),
    );
    expect(schemas.ErrorResponseDto.properties).toEqual(
      expect.objectContaining({ statusCode: expect.anything(), message: expect.anything() }),
    );
    expect(schemas.HoopsSpawnOkDto.properties).toEqual(
      expect.objectContaining({
        result: expect.anything(),
        serviceId: expect.anything(),
        endpoints: expect.anything(),
      }),
    );

    const refOf = (response: any) => JSON.stringify(response?.content ?? {});
    for (const path of ['/api/spawn', '/service']) {
      const responses = doc.paths[path].post.responses;
      expect(refOf(responses['200'])).toContain('HoopsSpawnOkDto');
      for (const code of ['400', '403', '500', '503', '504'])
        expect(refOf(responses[code])).toContain('#/components/schemas/HoopsFailureDto');
    }
    for (const code of ['400', '503'])
      expect(refOf(doc.paths['/spawn'].post.responses[code])).toContain('#/components/schemas/ErrorResponseDto');
    expect(JSON.stringify(doc.paths['/events'].get)).toContain('text/event-stream');
    expect(JSON.stringify(doc.paths['/spawns/{id}/logs'].get)).toContain('text/plain');
  });

  describe('the license never leaks (the built service as a real process)', () => {
    const KEY = 'LIC-KEY-7f3a9c';
    const FILE_LINES = ['LICFILE-CONTENTS-b81e44', 'LICFILE-SECOND-93ad0c'];

    /** A port for the service itself, outside every WebSocket range the e2e files use. */
    async function servicePort(): Promise<number> {
      for (;;) {
        const port = await freePort();
        if (port < 23000 || port > 23199) return port;
      }
    }

    async function startService(env: Record<string, string>): Promise<ServiceProcess> {
      const service = await startServiceProcess(await servicePort(), {
        ...FAST_TIMINGS,
        SC_PORT_BASE: String(SERVICE_PORT_BASE),
        SC_PORT_COUNT: '20',
        ...env,
      });
      cleanup.add(async () => {
        await service.stop(10_000);
      }, 'service process');
      return service;
    }

    /** Calls every route that shows spawns, configuration or output, with one good and one failing spawn; returns every response. */
    async function exercise(
      service: ServiceProcess,
      onReady?: (pid: number) => void,
    ): Promise<{ responses: string[]; pids: number[] }> {
      const responses: string[] = [];
      const keep = (label: string, response: RawResponse) => {
        responses.push(`${label} ${response.status}\n${JSON.stringify(response.headers)}\n${response.body}`);
        return response;
      };
      const get = (path: string, headers: Record<string, string> = {}) =>
        rawRequest(service.url, 'GET', path, undefined, headers).then((r) => keep(`GET ${path}`, r));
      const ok = readSpawnAnswer(
        keep(
          'POST /api/spawn',
          await rawRequest(
            service.url,
            'POST',
            '/api/spawn',
            JSON.stringify({ params: { model: 'microengine', sessionToken: 'tok-9' } }),
          ),
        ),
      );
      const failing = keep(
        'POST /service',
        await rawRequest(
          service.url,
          'POST',
          '/service',
          JSON.stringify({ params: { model: 'scsim:exit-before-ready:6' } }),
        ),
      );
      expectFailed(failing, 500, /exit code 6 \(invalid license\)/);
      const spawns = (await get('/spawns')).json() as Array<{ id: string; pid: number; state: string }>;
      expect(spawns).toHaveLength(2);
      const live = spawns.find((s) => s.id === ok.serviceId)!;
      const failed = spawns.find((s) => s.id !== ok.serviceId)!;
      expect(failed.state).toBe('failed');
      onReady?.(live.pid);
      const sse = await openSse(service.url, `/spawns/${failed.id}/events`, { cleanup });
      await sse.ended;
      responses.push(`SSE ${failed.id}\n${sse.raw()}`);
      for (const path of [
        '/api/status',
        '/api/spawns',
        `/spawns/${live.id}`,
        `/spawns/${failed.id}`,
        '/docs-json',
        '/health',
        '/health/ready',
        '/',
      ])
        await get(path);
      for (const id of [live.id, failed.id]) {
        const json = await get(`/spawns/${id}/logs`);
        expect(json.status).toBe(200);
        expect(Array.isArray(json.json())).toBe(true);
        await get(`/spawns/${id}/logs`, { accept: 'text/plain' });
      }
      const viewer = await connectViewer(ok.endpoints.ws, { cleanup });
      await viewer.send(JSON.stringify({ sessionToken: 'tok-9' }));
      responses.push(`hello ${JSON.stringify(await viewer.nextJson())}`);
      await viewer.close();
      await waitForProcessGone(live.pid);
      await waitFor(async () => (await get(`/spawns/${live.id}`)).json().state === 'exited', 5000, {
        description: 'the spawn to be exited',
      });
      await get(`/spawns/${live.id}/logs`, { accept: 'text/plain' });
      return { responses, pids: spawns.map((s) => s.pid) };
    }

    async function expectNoLeak(
      service: ServiceProcess,
      secrets: string[],
      responses: string[],
      pids: number[],
    ): Promise<string> {
      const result = await service.stop(10_000);
      expect(result.code).toBe(0);
      for (const pid of pids) await waitForProcessGone(pid);
      const output = service.output.join('');
      // The captured output is the real thing: it logged both spawns and how they ended.
      expect(output).toMatch(/exited with code: 6 \(invalid license\)/);
      expect(output).toMatch(/\] ready/);
      for (const secret of secrets) {
        for (const response of responses) expect(response).not.toContain(secret);
        expect(output).not.toContain(secret);
      }
      return output;
    }

    it('SC_LICENSE (a key): in no response and no log line, though the server got it', async () => {
      const service = await startService({ SC_EXECUTABLE: SIM_EXECUTABLE, SC_LICENSE: KEY });
      let argv: string[] = [];
      const { responses, pids } = await exercise(service, (pid) => (argv = procArgv(pid)));
      expect(argAfter(argv, '--license')).toBe(KEY); // positive control: the key was really in play
      const output = await expectNoLeak(service, [KEY, '7f3a9c'], responses, pids);
      expect(output).toMatch(/--license \*\*\*/);
    });

    it('SC_LICENSE_FILE: its contents are in no response and no log line', async () => {
      const dir = makeTempDir(cleanup, 'sc-hoops-lic-');
      const file = join(dir, 'license.txt');
      writeFileSync(file, `${FILE_LINES.join('\n')}\n`);
      const service = await startService({ SC_EXECUTABLE: SIM_EXECUTABLE, SC_LICENSE_FILE: file });
      let argv: string[] = [];
      const { responses, pids } = await exercise(service, (pid) => (argv = procArgv(pid)));
      expect(argAfter(argv, '--license-file')).toBe(file);
      await expectNoLeak(service, FILE_LINES, responses, pids);
    });

    it.each([
      ['a key', 'key'],
      ['a license file', 'file'],
    ])('is redacted from what a server prints when the server prints it (%s)', async (_what, kind) => {
      // A server that echoes its command line and its license file, then runs the simulator.
      const dir = makeTempDir(cleanup, 'sc-hoops-noisy-');
      const noisy = join(dir, 'noisy_sc_server');
      writeFileSync(
        noisy,
        [
          '#!/bin/sh',
          'echo "noisy server: args: $*"',
          'prev=""',
          'for a in "$@"; do',
          '  if [ "$prev" = "--license-file" ]; then echo "noisy server: license file says: $(cat "$a")"; cat "$a" >&2; fi',
          '  if [ "$prev" = "--license" ]; then echo "noisy server: license key $a" >&2; fi',
          '  prev="$a"',
          'done',
          `exec "${SIM_EXECUTABLE}" "$@"`,
          '',
        ].join('\n'),
      );
      chmodSync(noisy, 0o755);
      const licenseFile = join(dir, 'license.txt');
      writeFileSync(licenseFile, `${FILE_LINES.join('\n')}\n`);
      const secrets = kind === 'key' ? [KEY] : FILE_LINES;
      const service = await startService({
        SC_EXECUTABLE: noisy,
        ...(kind === 'key' ? { SC_LICENSE: KEY } : { SC_LICENSE_FILE: licenseFile }),
      });
      const { responses, pids } = await exercise(service);
      const logs = responses.filter((r) => r.startsWith('GET /spawns/') && r.includes('/logs'));
      // It did print it, and what it printed shows with the secret masked.
      expect(logs.join('\n')).toMatch(/noisy server: args: .*--id/);
      expect(logs.join('\n')).toContain('***');
      await expectNoLeak(service, secrets, responses, pids);
    });
  });
});

/**
 * End to end, with real simulator processes and real HTTP: what a hostile client cannot do (bodies that are
 * too big, too deep, not JSON, not an object, with prototype keys; methods a route does not answer; values
 * that would read as options; probing the host's folders), and what a server gets from the service (a minimal
 * environment without the license, a lower CPU priority), read from /proc.
 */
import { mkdirSync, readdirSync, readFileSync, realpathSync } from 'fs';
import { join } from 'path';
import { CHILD_ENV_ALLOW_LIST } from '../src/supervisor/rules/sc-command';
import { useCleanup } from './support/processes';
import { freePort } from './support/ports';
import { FAST_TIMINGS, startServiceProcess } from './support/spawner-app';
import {
  argAfter,
  procArgv,
  procEnv,
  rawRequest,
  startTrackedApp,
  waitForProcessGone,
  type RawResponse,
  type TrackedApp,
} from './support/spawner-e2e';
import { SIM_EXECUTABLE } from './support/simulator';
import { makeTempDir } from './support/temp';

/** This file's WebSocket port ranges (25100-25199). */
const PORT_BASE = 25100;
const SERVICE_PORT_BASE = 25150;
const ENV = { ...FAST_TIMINGS, SC_PORT_BASE: String(PORT_BASE), SC_PORT_COUNT: '20' };

const JSON_TYPE = { 'content-type': 'application/json' };
const SPAWN_ROUTES = ['/spawn', '/api/spawn', '/service'];
const HOOPS_ROUTES = ['/api/spawn', '/service'];

/** Field 19 of /proc/<pid>/stat (the nice value), for the process and each of its threads. */
function niceValues(pid: number): number[] {
  const niceOf = (statFile: string) => {
    const stat = readFileSync(statFile, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19 - 3]);
  };
  return [
    niceOf(`/proc/${pid}/stat`),
    ...readdirSync(`/proc/${pid}/task`).map((tid) => niceOf(`/proc/${pid}/task/${tid}/stat`)),
  ];
}

/** The refusal's message, in either shape (Nest's {statusCode, message} or the HOOPS {status, reason}). */
function messageOf(response: RawResponse, path: string): string {
  const body = response.json();
  if (HOOPS_ROUTES.includes(path)) {
    expect(body).toEqual({ status: 'failed', reason: expect.any(String) });
    return body.reason as string;
  }
  expect(body).toMatchObject({ statusCode: response.status, message: expect.anything() });
  return ([] as string[]).concat(body.message).join('; ');
}

async function expectRefused(
  app: TrackedApp,
  path: string,
  body: string | Buffer | undefined,
  headers: Record<string, string>,
  status: number,
  message: RegExp,
): Promise<RawResponse> {
  const response = await rawRequest(app.url, 'POST', path, body, headers);
  expect({ path, status: response.status }).toEqual({ path, status });
  expect(messageOf(response, path)).toMatch(message);
  return response;
}

function expectNothingStarted(app: TrackedApp): void {
  expect(app.supervisor.list()).toEqual([]);
  expect(app.knownPids()).toEqual([]);
  expect(app.events).toEqual([]);
}

describe('hardening (e2e)', () => {
  const cleanup = useCleanup();

  describe('request bodies', () => {
    it('415 for a body that is not JSON, on every spawn route in its own shape; text/plain only on the HOOPS routes', async () => {
      const app = await startTrackedApp(cleanup, ENV);
      const types = [
        'application/octet-stream',
        'application/xml',
        'text/xml',
        'multipart/form-data; boundary=x',
        'application/x-www-form-urlencoded',
        'application/yaml',
        'text/csv',
        'text/html',
        'application/vnd.api+json',
      ];
      for (const path of SPAWN_ROUTES) {
        for (const type of types) {
          await expectRefused(
            app,
            path,
            '{}',
            { 'content-type': type },
            415,
            /must be JSON sent as Content-Type: application\/json/,
          );
        }
        // A body with no Content-Type at all.
        await expectRefused(app, path, '{}', {}, 415, /no Content-Type/);
        // Compressed bodies are not inflated.
        await expectRefused(
          app,
          path,
          '{}',
          { ...JSON_TYPE, 'content-encoding': 'gzip' },
          415,
          /must not be compressed/,
        );
      }
      await expectRefused(app, '/spawn', '{}', { 'content-type': 'text/plain' }, 415, /application\/json/);
      await expectRefused(app, '/liveliness/x?liveliness=ping', 'ready', { 'content-type': 'text/csv' }, 415, /JSON/);
      expectNothingStarted(app);
    });

    it('413 beyond BODY_LIMIT (64kb by default, settable), in the HOOPS shape on its routes', async () => {
      const app = await startTrackedApp(cleanup, ENV);
      const big = JSON.stringify({ model: 'x'.repeat(64 * 1024) });
      for (const path of SPAWN_ROUTES) {
        await expectRefused(app, path, big, JSON_TYPE, 413, /larger than 65536 bytes \(BODY_LIMIT\)/);
      }
      const small = await startTrackedApp(cleanup, { ...ENV, BODY_LIMIT: '2kb' });
      await expectRefused(small, '/spawn', JSON.stringify({ model: 'x'.repeat(2100) }), JSON_TYPE, 413, /2048 bytes/);
      expectNothingStarted(app);
      expectNothingStarted(small);
    });

    it('400 for nesting deeper than 32 levels anywhere (known field or not), never reaching validation', async () => {
      const app = await startTrackedApp(cleanup, ENV);
      const arrays = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
      const objects = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
      for (const path of SPAWN_ROUTES) {
        for (const body of [
          `{"model":${arrays(1500)}}`,
          `{"unknown":${objects(1500)}}`,
          `{"params":{"model":${arrays(40)}}}`,
          `{"params":{"readyEndpoint":${objects(31)}}}`, // 33 levels in all
        ]) {
          await expectRefused(app, path, body, JSON_TYPE, 400, /nested deeper than 32 levels/);
        }
      }
      // 32 levels is still read (and then refused or ignored by the route's own rules, never a 500).
      const ok = await rawRequest(app.url, 'POST', '/spawn', `{"colour":${objects(31)}}`, JSON_TYPE);
      expect(ok.status).toBe(400);
      expect(messageOf(ok, '/spawn')).toMatch(/colour should not exist/);
      expectNothingStarted(app);
    });

    it('400 when the top level is not an object: [] and null on the HOOPS routes, numbers and strings everywhere', async () => {
      const app = await startTrackedApp(cleanup, ENV);
      for (const path of SPAWN_ROUTES) {
        for (const [body, what] of [
          ['[]', 'an array'],
          ['null', 'null'],
          ['42', 'a number'],
          ['"csr"', 'a string'],
          ['true', 'a boolean'],
        ]) {
          await expectRefused(app, path, body, JSON_TYPE, 400, new RegExp(`must be a JSON object .*got ${what}$`));
        }
      }
      for (const path of HOOPS_ROUTES) {
        await expectRefused(app, path, '[]', { 'content-type': 'text/plain' }, 400, /got an array/);
        await expectRefused(app, path, 'null', { 'content-type': 'text/plain;charset=UTF-8' }, 400, /got null/);
      }
      expectNothingStarted(app);
    });

    it('400 for __proto__, constructor and prototype keys anywhere, on both APIs', async () => {
      const app = await startTrackedApp(cleanup, ENV);
      const bodies: Array<[string, string]> = [
        ['{"__proto__":{"rendererType":"ssr"}}', '__proto__'],
        ['{"constructor":{"prototype":{"x":1}}}', 'constructor'],
        ['{"params":{"__proto__":{"sessionToken":"x"}}}', '__proto__'],
        ['{"params":{"model":"m","prototype":1}}', 'prototype'],
        ['{"params":{"legacy":[{"constructor":1}]}}', 'constructor'],
      ];
      for (const path of SPAWN_ROUTES) {
        for (const [body, key] of bodies) {
          await expectRefused(app, path, body, JSON_TYPE, 400, new RegExp(`may not contain the key "${key}"`));
        }
      }
      expectNothingStarted(app);
    });

    it('400 for an object of more than 100 keys or a body of more than 1,000 values, before validation (7,000 unknown keys: 270 kB of 400 before)', async () => {
      const app = await startTrackedApp(cleanup, { ...ENV, CSR_ENABLED: 'false' });
      const keys = (count: number) => Object.fromEntries(Array.from({ length: count }, (_, i) => [String(i), 0]));
      const wide = JSON.stringify(keys(7000));
      expect(wide.length).toBeGreaterThan(60_000);
      // Many small objects, each within the limit (20,000 in one list: 50-77 ms a request before): the total counts.
      const many = JSON.stringify({ a: Array.from({ length: 20_000 }, () => ({})) });
      for (const path of [...SPAWN_ROUTES, '/tickets']) {
        const refused = await expectRefused(app, path, wide, JSON_TYPE, 400, /at most 100 keys.*got 7000 \(at the top/);
        expect(refused.body.length).toBeLessThan(300);
        await expectRefused(app, path, many, JSON_TYPE, 400, /may hold at most 1000 values in all \(at a\)$/);
      }
      for (const path of HOOPS_ROUTES) {
        const params = JSON.stringify({ params: keys(101) });
        await expectRefused(
          app,
          path,
          params,
          JSON_TYPE,
          400,
          /^the request body may have at most 100 keys in an object, got 101 \(at params\)$/,
        );
        // 100 keys, the HOOPS params' unknown ones ignored as before: past every check, to the disabled renderer.
        const hundred = JSON.stringify({ class: 'csr_session', params: { ...keys(99), model: 'microengine' } });
        await expectRefused(app, path, hundred, JSON_TYPE, 403, /CSR rendering is disabled/);
      }
      // 100 unknown keys reach validation, whose 400 lists the first 10 and how many more.
      for (const path of ['/spawn', '/tickets']) {
        const response = await expectRefused(app, path, JSON.stringify(keys(100)), JSON_TYPE, 400, /should not exist/);
        const { message } = response.json() as { message: string[] };
        expect(message).toEqual([
          ...Array.from({ length: 10 }, (_, i) => `${i}: property ${i} should not exist`),
          'and 90 more',
        ]);
      }
      expectNothingStarted(app);
    });

    it('415 for a body in any charset but UTF-8 (UTF-16 was decoded, UTF-7 read), as for an unknown one', async () => {
      const app = await startTrackedApp(cleanup, ENV);
      const bodies: Array<[string, Buffer]> = [
        ['utf-16', Buffer.from('\ufeff{"model":"m"}', 'utf16le')],
        ['UTF-16LE', Buffer.from('{"model":"m"}', 'utf16le')],
        ['utf-7', Buffer.from('{+ACI-model+ACI-:+ACI-m+ACI-}')],
        ['us-ascii', Buffer.from('{}')],
        ['latin1', Buffer.from('{}')],
        ['foo', Buffer.from('{}')],
      ];
      for (const path of [...SPAWN_ROUTES, '/tickets', '/liveliness/x?liveliness=ping']) {
        for (const [charset, body] of bodies) {
          const type = { 'content-type': `application/json; charset=${charset}` };
          const message = new RegExp(`^the request body must be JSON in UTF-8 \\(got charset "${charset}"\\)$`);
          await expectRefused(app, path, body, type, 415, message);
        }
      }
      for (const path of HOOPS_ROUTES) {
        const type = { 'content-type': 'text/plain;charset=UTF-16' };
        await expectRefused(app, path, Buffer.from('{}', 'utf16le'), type, 415, /in UTF-8 \(got charset "UTF-16"\)/);
      }
      // UTF-8, however written, is read.
      for (const type of ['application/json; charset=UTF-8', 'application/json;charset="utf-8"']) {
        const ticket = await rawRequest(app.url, 'POST', '/tickets', '{"model":"microengine"}', {
          'content-type': type,
        });
        expect({ type, status: ticket.status }).toEqual({ type, status: 200 });
        await expectRefused(app, '/spawn', '{"rendererType":"x"}', { 'content-type': type }, 400, /^rendererType must/);
      }
      expectNothingStarted(app);
    });

    it('no body and no Content-Type is still an empty request (a CSR spawn on the HOOPS routes)', async () => {
      const app = await startTrackedApp(cleanup, ENV);
      const answer = await rawRequest(app.url, 'POST', '/api/spawn', undefined, { 'content-length': '0' });
      expect(answer.status).toBe(200);
      expect(answer.json()).toMatchObject({ result: 'ok' });
      await rawRequest(app.url, 'DELETE', `/spawns/${answer.json().serviceId}`);
      await waitForProcessGone(app.supervisor.get(answer.json().serviceId)!.pid!);
    });
  });

  describe('methods', () => {
    it('405 with Allow for a method a known route does not answer; OPTIONS preflights and unknown paths as before', async () => {
      const app = await startTrackedApp(cleanup, ENV);
      const cases: Array<[string, string, string[]]> = [
        ['PUT', '/spawn', ['POST', 'OPTIONS']],
        ['GET', '/spawn', ['POST', 'OPTIONS']],
        ['PATCH', '/api/spawn', ['POST', 'OPTIONS']],
        ['DELETE', '/health', ['GET', 'HEAD', 'OPTIONS']],
        ['POST', '/health/ready', ['GET', 'HEAD', 'OPTIONS']],
        ['PUT', '/spawns/abc', ['GET', 'HEAD', 'DELETE', 'OPTIONS']],
        ['POST', '/spawns/abc/logs', ['GET', 'HEAD', 'OPTIONS']],
        ['GET', '/liveliness/abc', ['POST', 'OPTIONS']],
        ['DELETE', '/docs-json', ['GET', 'HEAD', 'OPTIONS']],
      ];
      for (const [method, path, allowed] of cases) {
        const response = await rawRequest(app.url, method, path, undefined, { origin: 'http://a.example' });
        expect({ method, path, status: response.status }).toEqual({ method, path, status: 405 });
        expect(String(response.headers.allow).split(', ').sort()).toEqual([...allowed].sort());
        expect(response.json()).toMatchObject({ statusCode: 405, error: 'Method Not Allowed' });
        expect(response.headers['access-control-allow-origin']).toBeDefined();
      }
      const preflight = await rawRequest(app.url, 'OPTIONS', '/spawn', undefined, {
        origin: 'http://a.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      });
      expect(preflight.status).toBe(204);
      expect((await rawRequest(app.url, 'PUT', '/no-such-route')).status).toBe(404);
      expect((await rawRequest(app.url, 'HEAD', '/health')).status).toBe(200);
      expectNothingStarted(app);
    });
  });

  it('404 for an unknown id repeats at most 128 of its characters, on every route that takes one', async () => {
    const app = await startTrackedApp(cleanup, ENV);
    const id = 'x'.repeat(12_000);
    for (const [method, path] of [
      ['POST', `/liveliness/${id}?liveliness=ping`],
      ['GET', `/spawns/${id}`],
      ['DELETE', `/spawns/${id}`],
    ]) {
      const response = await rawRequest(app.url, method, path, undefined, { 'content-type': 'application/json' });
      expect({ path: path.slice(0, 20), status: response.status }).toEqual({ path: path.slice(0, 20), status: 404 });
      expect(messageOf(response, path)).toBe(`no spawn with id ${'x'.repeat(128)}… (12000 characters)`);
    }
    expect(messageOf(await rawRequest(app.url, 'GET', '/spawns/abc'), '/spawns/abc')).toBe('no spawn with id abc');
    expectNothingStarted(app);
  });

  it('a path no route takes, a method a route does not answer, another node: at most 128 characters repeated', async () => {
    const app = await startTrackedApp(cleanup, ENV);
    const long = 'x'.repeat(12_000);
    const cut = `${'x'.repeat(128)}… (12000 characters)`;
    const cases: Array<[string, string, number, string]> = [
      ['GET', `/no-such-route/${long}`, 404, `Cannot GET /no-such-route/${'x'.repeat(113)}… (12015 characters)`],
      ['PUT', `/spawns/${long}`, 405, `PUT is not allowed on /spawns/${'x'.repeat(120)}… (12008 characters); allowed:`],
      ['GET', `/n/${long}/spawns`, 421, `the request is for node "${cut}" (/n/${cut}/...)`],
    ];
    for (const [method, path, status, shown] of cases) {
      const response = await rawRequest(app.url, method, path);
      expect({ path: path.slice(0, 20), status: response.status }).toEqual({ path: path.slice(0, 20), status });
      expect(response.body.length).toBeLessThan(1000);
      expect(messageOf(response, path)).toContain(shown);
    }
    expect(messageOf(await rawRequest(app.url, 'GET', '/no-such-route'), '')).toBe('Cannot GET /no-such-route');
    expectNothingStarted(app);
  });

  describe('values that would read as options', () => {
    it('400 naming the field for a session token, a model or a model folder starting with -, or with a line break', async () => {
      const app = await startTrackedApp(cleanup, ENV);
      const cases: Array<[string, object, RegExp]> = [
        ['/spawn', { sessionToken: '--license-file=/etc/shadow' }, /^sessionToken must be .*not starting with '-'/],
        ['/spawn', { sessionToken: '-' }, /^sessionToken must be/],
        ['/spawn', { model: '--license=x' }, /^model must be/],
        ['/spawn', { model: 'a\nb' }, /^model must be/],
        [
          '/api/spawn',
          { params: { sessionToken: '--license-file=/etc/shadow' } },
          /params\.sessionToken must be .*'-'/,
        ],
        ['/service', { params: { sessionToken: '-x' } }, /params\.sessionToken must be/],
        ['/service', { params: { model: '-x' } }, /params\.model must be/],
        [
          '/api/spawn',
          { params: { modelSearchDirectories: ['--x'] } },
          /params\.modelSearchDirectories entries must be/,
        ],
        ['/api/spawn', { params: { modelSearchDirectories: ['/a\r\nb'] } }, /params\.modelSearchDirectories entries/],
        ['/api/spawn', { params: { modelSearchDirectories: ['/' + 'x'.repeat(1024)] } }, /at most 1024 characters/],
      ];
      for (const [path, body, message] of cases) {
        await expectRefused(app, path, JSON.stringify(body), JSON_TYPE, 400, message);
      }
      expectNothingStarted(app);
    });
  });

  describe('model folders', () => {
    it('a folder outside the roots and a missing one inside them get the very same answer', async () => {
      const base = realpathSync(makeTempDir(cleanup, 'sc-hardening-models-'));
      const root = join(base, 'models');
      mkdirSync(join(root, 'present'), { recursive: true });
      const app = await startTrackedApp(cleanup, { ...ENV, SC_MODEL_DIRS: root });
      const answerFor = async (path: string, dir: string) => {
        const response = await rawRequest(
          app.url,
          'POST',
          path,
          JSON.stringify({ params: { modelSearchDirectories: [dir] } }),
          JSON_TYPE,
        );
        return {
          status: response.status,
          body: response.body.replace(JSON.stringify(JSON.stringify(dir)).slice(1, -1), '<dir>'),
        };
      };
      for (const path of HOOPS_ROUTES) {
        const outsideExisting = await answerFor(path, base); // exists, outside the root
        const outsideMissing = await answerFor(path, '/no/such/folder');
        const insideMissing = await answerFor(path, join(root, 'absent'));
        expect(outsideExisting.status).toBe(400);
        expect(outsideExisting.body).toContain('<dir>');
        expect(outsideMissing).toEqual(outsideExisting);
        expect(insideMissing).toEqual(outsideExisting);
      }
      expectNothingStarted(app);
    });
  });

  describe('what a server gets', () => {
    /** A port for the service itself, outside every WebSocket range the e2e files use. */
    async function servicePort(): Promise<number> {
      for (;;) {
        const port = await freePort();
        if (port < 21000 || port > 25499) return port;
      }
    }

    it("its environment: the allow-list and SC_CHILD_ENV's names only; never SC_LICENSE or another setting", async () => {
      const KEY = 'LIC-ENV-4c8e21';
      const service = await startServiceProcess(await servicePort(), {
        ...FAST_TIMINGS,
        SC_PORT_BASE: String(SERVICE_PORT_BASE),
        SC_PORT_COUNT: '10',
        SC_EXECUTABLE: SIM_EXECUTABLE,
        SC_LICENSE: KEY,
        SC_CHILD_ENV: 'HARDENING_PASSED, HARDENING_PREFIX_*',
        HARDENING_PASSED: 'yes',
        HARDENING_PREFIX_ONE: '1',
        HARDENING_SECRET: 'not-for-servers',
        LC_ALL: 'C.UTF-8',
        TZ: 'UTC',
      });
      cleanup.add(() => service.stop(10_000), 'service process');
      const response = await rawRequest(service.url, 'POST', '/spawn', '{}', JSON_TYPE);
      expect(response.status).toBe(200);
      const pid = response.json().pid as number;
      const env = procEnv(pid);
      expect(argAfter(procArgv(pid), '--license')).toBe(KEY); // the key is on the command line, as before
      expect(Object.values(env).join('\n')).not.toContain(KEY);
      expect(env).toMatchObject({ HARDENING_PASSED: 'yes', HARDENING_PREFIX_ONE: '1', LC_ALL: 'C.UTF-8', TZ: 'UTC' });
      expect(env.PATH).toBe(process.env.PATH);
      for (const name of [
        'SC_LICENSE',
        'HARDENING_SECRET',
        'NODE_ENV',
        'PORT',
        'HOST',
        'SC_PORT_BASE',
        'SC_CHILD_ENV',
        'SC_EXECUTABLE',
      ]) {
        expect({ name, value: env[name] }).toEqual({ name, value: undefined });
      }
      // The spawn helper's launch id, where it is the servers' subreaper (no cgroup mechanism): 12 random bytes.
      expect(env.SC_SPAWNER_LAUNCH).toMatch(/^[0-9a-f]{24}$/);
      const allowed = [...CHILD_ENV_ALLOW_LIST, 'SC_SPAWNER_LAUNCH', 'HARDENING_PASSED', 'HARDENING_PREFIX_*'];
      const unexpected = Object.keys(env).filter(
        (name) => !allowed.some((p) => (p.endsWith('*') ? name.startsWith(p.slice(0, -1)) : name === p)),
      );
      expect(unexpected).toEqual([]);
      await rawRequest(service.url, 'DELETE', `/spawns/${response.json().id}`);
      await waitForProcessGone(pid);
    });

    it('its CPU priority: nice 10 by default for the server and every thread; SC_NICE sets it, 0 leaves it', async () => {
      const own = niceValues(process.pid)[0];
      for (const [setting, expected] of [
        [undefined, 10],
        ['5', 5],
        ['0', own],
      ] as const) {
        // SC_NICE=0 ranks nothing by nice: FAST_TIMINGS' SC_CPU_PRIORITY=nice then gives way to none.
        const nice =
          setting === undefined ? {} : { SC_NICE: setting, ...(setting === '0' ? { SC_CPU_PRIORITY: 'none' } : {}) };
        const app = await startTrackedApp(cleanup, { ...ENV, ...nice });
        const response = await rawRequest(app.url, 'POST', '/spawn', '{}', JSON_TYPE);
        expect(response.status).toBe(200);
        const pid = response.json().pid as number;
        // Same pid: nice execs the server in place, so the pid and process group the service follows are the server's.
        expect(procArgv(pid)[1]).toMatch(/ts3d_sc_server$/);
        expect(niceValues(pid).every((nice) => nice === Math.max(expected, own))).toBe(true);
        await rawRequest(app.url, 'DELETE', `/spawns/${response.json().id}`);
        await waitForProcessGone(pid);
      }
    });
  });
});

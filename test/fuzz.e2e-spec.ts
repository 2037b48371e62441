/**
 * A seeded fuzz of every route the application registered (read from its router, so new routes are covered):
 * wrong methods, wrong types, deep nesting, huge bodies and headers, every content type, NUL and line breaks,
 * prototype keys, option-looking values, odd paths and queries. Every request is invalid by construction. The
 * service runs the real simulator, so a request that got through would start a real process.
 * Asserts: no answer >= 500, no request left unanswered, no process started, no state change, healthy after.
 * FUZZ_SEED=<n> replays a run; FUZZ_REQUESTS sets how many.
 */
import * as http from 'http';
import { readdirSync, readFileSync, mkdirSync, realpathSync } from 'fs';
import { join } from 'path';
import { registeredRoutes, type RegisteredRoute } from '../src/http/method-not-allowed';
import { useCleanup } from './support/processes';
import { FAST_TIMINGS } from './support/spawner-app';
import { rawRequest, startTrackedApp, waitForProcessGone } from './support/spawner-e2e';
import { makeTempDir } from './support/temp';

/** This file's WebSocket port range (25000-25049). */
const PORT_BASE = 25000;
const SEED = Number(process.env.FUZZ_SEED ?? 20261129);
const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 3000);
const CONCURRENCY = 16;
const REQUEST_TIMEOUT_MS = 10_000;

/** mulberry32: a small seeded PRNG, so a failing run can be replayed exactly. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
  /** What makes it invalid, for the failure report. */
  why: string;
}

const SPAWN_ROUTES = new Set(['/spawn', '/api/spawn', '/service']);
const HOOPS_ROUTES = new Set(['/api/spawn', '/service']);
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'TRACE', 'PROPFIND'];
const NON_JSON_TYPES = [
  'application/octet-stream',
  'application/xml',
  'text/xml',
  'multipart/form-data; boundary=----x',
  'application/x-www-form-urlencoded',
  'application/yaml',
  'text/csv',
  'text/html',
  'application/vnd.api+json',
  'application/json-patch+json',
  'image/png',
  'garbage',
  'application/json; charset=latin1',
];
const NASTY_STRINGS = [
  '--license-file=/etc/shadow',
  '-x',
  '--',
  'a\0b',
  'a\r\nb',
  '\n',
  '../../etc/passwd',
  '/etc/passwd',
  '$(reboot)',
  '`id`',
  'a;b',
  ' ',
  '',
  'ünïcödé',
  '\u202e',
  'x'.repeat(5000),
  '%00',
  '__proto__',
];
const NASTY_VALUES: unknown[] = [null, true, 0, -1, 1e308, [], {}, ['a'], { a: 1 }, ...NASTY_STRINGS];

class Generator {
  constructor(
    private readonly random: () => number,
    private readonly routes: RegisteredRoute[],
    private readonly modelRoot: string,
  ) {}

  private int(n: number): number {
    return Math.floor(this.random() * n);
  }
  private pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
  private chance(p: number): boolean {
    return this.random() < p;
  }

  next(): FuzzRequest {
    const route = this.chance(0.9) ? this.pick(this.routes) : undefined;
    const path = route
      ? this.fillPath(route.path)
      : this.pick(['/', '/nope', '/spawn/extra', '/api', '/ws/x', '/%2e%2e/etc']);
    const method = route && this.chance(0.6) ? this.pick(route.methods) : this.pick(METHODS);
    const headers: Record<string, string> = {};
    if (this.chance(0.1)) headers['x-fuzz'] = 'h'.repeat(this.pick([100, 4000, 15000, 20000]));
    if (this.chance(0.05)) for (let i = 0; i < 50; i++) headers[`x-fuzz-${i}`] = String(i);
    if (this.chance(0.1)) headers.accept = this.pick(['text/plain', 'text/event-stream', '*/*', 'application/xml']);
    const query = this.chance(0.3) ? this.query() : '';
    const request: FuzzRequest = { method, path: path + query, headers, why: '' };
    const basePath = path.split('?')[0];
    // A POST to a spawn route is the one request that could start a server: it always carries a defect.
    if (method === 'POST' && SPAWN_ROUTES.has(basePath.replace(/\/$/, ''))) this.defectiveSpawnBody(request, basePath);
    else if (method !== 'HEAD' && method !== 'GET' && this.chance(0.7)) this.anyBody(request);
    else if (this.chance(0.2)) this.anyBody(request);
    return request;
  }

  /** A version-4-shaped id from the seeded generator (crypto.randomUUID would make a run unrepeatable). */
  private uuid(): string {
    const hex = Array.from({ length: 32 }, () => this.int(16).toString(16)).join('');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20)}`;
  }

  private fillPath(pattern: string): string {
    return pattern.replace(/:(\w+)/g, () =>
      this.pick([
        this.uuid(),
        '00000000-0000-4000-8000-000000000000',
        'x',
        '%00',
        '%0d%0a',
        '..%2f..%2fetc',
        'a'.repeat(2000),
        '__proto__',
        'constructor',
        '-1',
        '%E2%80%AE',
      ]),
    );
  }

  private query(): string {
    return (
      '?' +
      this.pick([
        'liveliness=ready',
        'liveliness=ping',
        'liveliness=disconnect',
        'liveliness=READY',
        'liveliness=ready&liveliness=ping',
        'liveliness[]=ready',
        'liveliness[a]=b',
        '__proto__[x]=1',
        'constructor[prototype][x]=1',
        'liveliness=%00',
        'liveliness=%0d%0a',
        `liveliness=${'r'.repeat(5000)}`,
        'a=1&'.repeat(500),
      ])
    );
  }

  private deep(depth: number, leaf = '1'): string {
    return this.chance(0.5) ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + leaf + '}'.repeat(depth);
  }

  private anyBody(request: FuzzRequest): void {
    const kind = this.int(8);
    const json = { 'content-type': this.pick(['application/json', 'text/plain', 'application/json; charset=utf-8']) };
    switch (kind) {
      case 0:
        return this.setBody(request, JSON.stringify(this.noise()), json, 'noise JSON');
      case 1:
        return this.setBody(request, `{"x":${this.deep(100 + this.int(3000))}}`, json, 'deep');
      case 2:
        return this.setBody(request, '{"a":"' + 'x'.repeat(70_000 + this.int(200_000)) + '"}', json, 'huge');
      case 3:
        return this.setBody(request, '{}', { 'content-type': this.pick(NON_JSON_TYPES) }, 'non-JSON type');
      case 4:
        return this.setBody(
          request,
          this.pick(['[]', 'null', '1', '"s"', 'true', '{"a":', '{"__proto__":{}}', '\0']),
          json,
          'odd top level',
        );
      case 5:
        return this.setBody(request, '{}', {}, 'no content type');
      case 6:
        return this.setBody(
          request,
          '{}',
          { ...json, 'content-encoding': this.pick(['gzip', 'br', 'deflate', 'x']) },
          'encoded',
        );
      default:
        return this.setBody(
          request,
          Buffer.from(Array.from({ length: this.int(500) }, () => this.int(256))),
          json,
          'random bytes',
        );
    }
  }

  private noise(): Record<string, unknown> {
    const noise: Record<string, unknown> = {};
    for (let i = this.int(4); i > 0; i--)
      noise[this.pick(['a', 'model', 'x-y', '', ' ', 'rendererType', 'class', 'params'])] = this.pick(NASTY_VALUES);
    return noise;
  }

  /** A body for POST /spawn, /api/spawn or /service with at least one defect that must refuse it. */
  private defectiveSpawnBody(request: FuzzRequest, path: string): void {
    const hoops = HOOPS_ROUTES.has(path.replace(/\/$/, ''));
    const json = { 'content-type': hoops && this.chance(0.3) ? 'text/plain' : 'application/json' };
    const defect = this.int(10);
    switch (defect) {
      case 0:
        return this.setBody(request, '{}', { 'content-type': this.pick(NON_JSON_TYPES) }, 'non-JSON type');
      case 1: {
        const field = hoops ? '"params":{"model":' : this.pick(['"model":', '"unknown":', '"rendererType":']);
        const close = hoops ? '}' : '';
        return this.setBody(request, `{${field}${this.deep(33 + this.int(3000))}${close}}`, json, 'deep');
      }
      case 2:
        return this.setBody(request, JSON.stringify({ model: 'x'.repeat(66_000 + this.int(100_000)) }), json, 'huge');
      case 3:
        return this.setBody(
          request,
          this.pick(['[]', 'null', '42', '"csr"', 'false', '[{"class":"csr_session"}]']),
          json,
          'not an object',
        );
      case 4: {
        const key = this.pick(['__proto__', 'constructor', 'prototype']);
        const body = hoops ? `{"params":{"${key}":{"model":"m"}}}` : `{"${key}":{"rendererType":"csr"}}`;
        return this.setBody(request, body, json, 'prototype key');
      }
      case 5:
        return this.setBody(
          request,
          this.pick(['{"rendererType":', '{,}', "{'a':1}", '{"a":1}}']),
          json,
          'invalid JSON',
        );
      case 6:
        return this.setBody(request, '{}', { ...json, 'content-encoding': 'gzip' }, 'encoded');
      case 7:
        if (!hoops) return this.setBody(request, '{}', { 'content-type': 'text/plain' }, 'text/plain on /spawn');
        return this.setBody(request, '{}', {}, 'no content type');
      default: {
        const bad = this.pick(NASTY_STRINGS);
        const body = hoops ? this.badHoopsBody(bad) : this.badSpawnBody(bad);
        return this.setBody(request, JSON.stringify(body), json, `bad value ${JSON.stringify(bad).slice(0, 40)}`);
      }
    }
  }

  private badSpawnBody(bad: string): Record<string, unknown> {
    switch (this.int(5)) {
      case 0:
        return { rendererType: this.pick(['gpu', 'CSR', 1, 'ssr ', '', ['csr']]) };
      case 1:
        return { model: isPlainModelLike(bad) ? `-${bad}` : bad };
      case 2:
        return { sessionToken: /^[\x21-\x7e]{1,256}$/.test(bad) && !bad.startsWith('-') ? `-${bad}` : bad };
      case 3:
        return {
          rendererType: 'csr',
          [this.pick(['colour', 'class', 'params', 'id', 'pid'])]: this.pick(NASTY_VALUES),
        };
      default:
        return { rendererType: 'csr', model: 'microengine', sessionToken: `--${bad.length}` };
    }
  }

  private badHoopsBody(bad: string): Record<string, unknown> {
    const modelRoot = this.modelRoot;
    switch (this.int(6)) {
      case 0:
        return { class: this.pick(['gpu_session', 'CSR_SESSION', 7, true, ['csr_session'], {}]) };
      case 1:
        return { params: this.pick(['model=x', 7, ['a'], true]) };
      case 2:
        return { params: { sessionToken: /^[\x21-\x7e]{1,256}$/.test(bad) && !bad.startsWith('-') ? `-${bad}` : bad } };
      case 3:
        return {
          params: { model: isPlainModelLike(bad) ? `-${bad}` : bad },
        };
      case 4:
        return {
          params: {
            modelSearchDirectories: this.pick([
              '/srv',
              [7],
              [bad === '' ? '' : `-${bad}`],
              ['/etc'],
              [join(modelRoot, '..')],
              [join(modelRoot, 'missing')],
              [join(modelRoot, 'a\nb')],
              [`${modelRoot};/etc`],
            ]),
          },
        };
      default:
        return { class: 'csr_session', params: { model: 'microengine', sessionToken: '-', readyEndpoint: bad } };
    }
  }

  private setBody(request: FuzzRequest, body: string | Buffer, headers: Record<string, string>, why: string): void {
    request.body = typeof body === 'string' ? Buffer.from(body) : body;
    Object.assign(request.headers, headers);
    request.why = why;
  }
}

/** Whether a string would pass the model-name rule unchanged (then the generator breaks it on purpose). */
function isPlainModelLike(value: string): boolean {
  return (
    /^[A-Za-z0-9 _.+():/-]+$/.test(value) &&
    !value.startsWith('/') &&
    !value.split('/').some((p) => p === '..' || p === '.' || p === '')
  );
}

interface Outcome {
  status: number;
  body: string;
}

function send(agent: http.Agent, base: string, request: FuzzRequest): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const headers: http.OutgoingHttpHeaders = { ...request.headers };
    if (request.body) headers['content-length'] = request.body.length;
    const req = http.request(`${base}${request.path}`, { method: request.method, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      if (String(res.headers['content-type']).startsWith('text/event-stream')) {
        res.destroy(); // an event stream never ends by itself
        return resolve({ status: res.statusCode ?? 0, body: '' });
      }
      res.on('data', (chunk: Buffer) => chunks.length < 4 && chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8', 0, 300) }),
      );
      res.on('error', () => resolve({ status: res.statusCode ?? 0, body: '' }));
    });
    req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end(request.body);
  });
}

/** Simulator processes that are children of this test process right now. */
function parentOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

function simulatorChildren(): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((entry) => {
      try {
        const ppid = parentOf(Number(entry));
        // Servers are children of the service's spawn helper, itself a child of this process (the service runs here).
        const ours = ppid === process.pid || parentOf(ppid) === process.pid;
        return ours && readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('ts3d_sc_server');
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe('fuzz (e2e)', () => {
  const cleanup = useCleanup();

  it(`${REQUESTS} seeded hostile requests over every registered route: no 5xx, no process, no state change`, async () => {
    const base = realpathSync(makeTempDir(cleanup, 'sc-fuzz-models-'));
    const modelRoot = join(base, 'models');
    mkdirSync(join(modelRoot, 'project'), { recursive: true });
    const app = await startTrackedApp(cleanup, {
      ...FAST_TIMINGS,
      SC_PORT_BASE: String(PORT_BASE),
      SC_PORT_COUNT: '20',
      SC_MODEL_DIRS: modelRoot,
    });
    const routes = registeredRoutes(app.app);
    // The routes come from the router: the API's own, the HOOPS API, health, events, dashboard, Swagger.
    for (const path of [
      '/spawn',
      '/spawns/:id',
      '/api/spawn',
      '/service',
      '/liveliness/:id',
      '/health/ready',
      '/events',
      '/docs-json',
    ]) {
      expect(routes.map((r) => r.path)).toContain(path);
    }
    const before = simulatorChildren();
    const generator = new Generator(prng(SEED), routes, modelRoot);
    const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    cleanup.add(() => agent.destroy(), 'fuzz agent');
    const failures: string[] = [];
    const statuses = new Map<number, number>();
    let sent = 0;
    const worker = async () => {
      while (sent < REQUESTS) {
        const request = generator.next();
        const n = ++sent;
        let outcome: Outcome;
        try {
          outcome = await send(agent, app.url, request);
        } catch (error) {
          // The server may close a connection on a request it cannot parse at all (a header too big...) after
          // answering it; that is an answer. Anything else (a hang) is a failure.
          if (/no answer within/.test((error as Error).message))
            failures.push(
              `#${n} ${request.method} ${request.path.slice(0, 80)} (${request.why}): ${(error as Error).message}`,
            );
          statuses.set(-1, (statuses.get(-1) ?? 0) + 1);
          continue;
        }
        statuses.set(outcome.status, (statuses.get(outcome.status) ?? 0) + 1);
        if (outcome.status >= 500 || outcome.status === 0) {
          failures.push(
            `#${n} ${request.method} ${request.path.slice(0, 80)} (${request.why}): ${outcome.status} ${outcome.body}`,
          );
        }
        if (
          outcome.status >= 200 &&
          outcome.status < 300 &&
          request.method === 'POST' &&
          SPAWN_ROUTES.has(request.path.split('?')[0])
        ) {
          failures.push(`#${n} POST ${request.path} (${request.why}) was accepted: ${outcome.body}`);
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    agent.destroy();

    if (process.env.FUZZ_VERBOSE) console.log(JSON.stringify([...statuses].sort((a, b) => a[0] - b[0])));
    expect({ seed: SEED, failures: failures.slice(0, 20) }).toEqual({ seed: SEED, failures: [] });
    // Answers of many kinds came back (the fuzz reached the routes, not just one refusal).
    for (const status of [200, 204, 400, 404, 405, 413, 415])
      expect({ status, seen: (statuses.get(status) ?? 0) > 0 }).toEqual({ status, seen: true });
    expect(app.events).toEqual([]);
    expect(app.supervisor.list()).toEqual([]);
    expect(app.knownPids()).toEqual([]);
    expect(simulatorChildren()).toEqual(before);
    const list = await rawRequest(app.url, 'GET', '/spawns');
    expect(list.json()).toEqual([]);
    expect((await rawRequest(app.url, 'GET', '/health')).status).toBe(200);
    expect((await rawRequest(app.url, 'GET', '/health/ready')).status).toBe(200);

    // Positive control: this very service does start a server for a valid request.
    const valid = await rawRequest(app.url, 'POST', '/spawn', '{"rendererType":"csr"}');
    expect(valid.status).toBe(200);
    expect(simulatorChildren()).toContain(valid.json().pid);
    await rawRequest(app.url, 'DELETE', `/spawns/${valid.json().id}`);
    await waitForProcessGone(valid.json().pid);
  });
});

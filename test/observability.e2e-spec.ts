/**
 * End to end: what an operator ships and scrapes. The built service's stdout parsed as JSON lines (spawnId on
 * every spawn line, server output at debug, request ids echoed, no secret anywhere), and /metrics parsed and
 * compared with what the test did (spawns, outcomes, rejections, states, liveliness, proxy bytes).
 */
import { readFileSync } from 'fs';
import { headOf, parsePrometheus, sampleValue, type Sample } from './support/operable';
import { useCleanup } from './support/processes';
import { freePort } from './support/ports';
import { FAST_TIMINGS, startServiceProcess, type ServiceProcess } from './support/spawner-app';
import { rawRequest, rawUpgrade, startTrackedApp } from './support/spawner-e2e';
import { SIM_EXECUTABLE } from './support/simulator';
import { connectViewer } from './support/viewer-client';
import { sleep, waitFor } from './support/wait';
import { REFUSAL_LOG_WINDOW_MS } from '../src/logging/refusal-log';

const PORT_BASE = 25600;
const API_KEY = 'k3y-obs-0123456789abcdef';
const LICENSE = 'LIC-OBS-5e1f2a9b';
const CLUSTER_KEY = 'c1uster-obs-0123456789';
const RELAY_TOKEN = 'r3lay-token-obs-abcdef';
const BEARER = { authorization: `Bearer ${API_KEY}` };
const JSON_BODY = { 'content-type': 'application/json' };

type LogLine = Record<string, unknown> & { level: string; msg: string; time: string };

function logLines(service: ServiceProcess): LogLine[] {
  return service.output
    .join('')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      try {
        return JSON.parse(line) as LogLine;
      } catch {
        throw new Error(`not a JSON log line: ${line}`);
      }
    });
}

describe('observability (e2e)', () => {
  const cleanup = useCleanup();

  async function startService(env: Record<string, string>): Promise<ServiceProcess> {
    const service = await startServiceProcess(await freePort(), {
      ...FAST_TIMINGS,
      SC_PORT_BASE: String(PORT_BASE),
      SC_PORT_COUNT: '10',
      SC_EXECUTABLE: SIM_EXECUTABLE,
      SC_LICENSE: LICENSE,
      ...env,
    });
    cleanup.add(() => service.stop(10_000), 'service process');
    return service;
  }

  it('logs JSON lines: spawnId on spawn lines, server output at debug, request ids echoed, no secret', async () => {
    const service = await startService({ API_KEYS: API_KEY, CLUSTER_KEY, LOG_LEVEL: 'debug' });
    const ok = await rawRequest(service.url, 'POST', '/spawn', '{}', { ...JSON_BODY, 'x-request-id': 'req-obs-1' });
    expect(ok.status).toBe(200);
    expect(ok.headers['x-request-id']).toBe('req-obs-1');
    const id = ok.json().id as string;
    const failed = await rawRequest(service.url, 'POST', '/spawn', '{"model":"scsim:exit-before-ready:4"}', JSON_BODY);
    expect(failed.status).toBe(502);
    const generated = failed.headers['x-request-id'];
    expect(generated).toMatch(/^[0-9a-f-]{36}$/);
    // An unsafe id is replaced, not echoed.
    const odd = await rawRequest(service.url, 'GET', '/health', undefined, { 'x-request-id': 'a b<script>' });
    expect(odd.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect((await rawRequest(service.url, 'GET', '/spawns', undefined, BEARER)).status).toBe(200);
    expect((await headOf(service.url, 'GET', `/events?access_token=${API_KEY}`)).status).toBe(200);
    // A relay link fetched as a page (not an upgrade): its token stays out of the access line.
    expect((await rawRequest(service.url, 'GET', `/ws/${RELAY_TOKEN}`, undefined, BEARER)).status).toBe(404);
    expect((await rawRequest(service.url, 'GET', '/spawns', undefined, { authorization: 'Bearer nope' })).status).toBe(
      401,
    );
    expect((await rawRequest(service.url, 'DELETE', `/spawns/${id}`, undefined, BEARER)).status).toBe(202);
    await waitFor(
      async () => (await rawRequest(service.url, 'GET', `/spawns/${id}`, undefined, BEARER)).json().state === 'exited',
      5000,
      { description: 'the stopped spawn to be exited' },
    );
    expect((await service.stop(10_000)).code).toBe(0);

    const lines = logLines(service);
    const text = service.output.join('');
    expect(text).not.toContain(LICENSE);
    expect(text).not.toContain(API_KEY);
    expect(text).not.toContain(CLUSTER_KEY);
    expect(text).not.toContain(String.fromCharCode(27)); // no ANSI colours
    for (const line of lines) {
      expect(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).toContain(line.level);
      expect(Date.parse(line.time)).not.toBeNaN();
    }
    // Every line about a spawn names it as a field.
    const aboutSpawns = lines.filter((line) => /\bspawn [0-9a-f-]{36}|^\[[0-9a-f-]{36}\]/.test(line.msg));
    expect(aboutSpawns.length).toBeGreaterThan(5);
    for (const line of aboutSpawns) expect(line.msg).toContain(String(line.spawnId));
    const mine = lines.filter((line) => line.spawnId === id);
    expect(mine.find((line) => line.to === 'ready')).toMatchObject({ level: 'info', startupMs: expect.any(Number) });
    expect(mine.find((line) => /starting on port/.test(line.msg))).toMatchObject({ level: 'info' });
    expect(mine.find((line) => line.exitCode === 0)).toMatchObject({ level: 'info' });
    const output = mine.filter((line) => line.stream !== undefined);
    expect(output.length).toBeGreaterThan(0);
    for (const line of output)
      expect(line).toMatchObject({ level: 'debug', stream: expect.stringMatching(/^std(out|err)$/) });
    const failure = lines.find((line) => line.exitCode === 4);
    expect(failure).toMatchObject({ level: 'warn', exitMeaning: 'failed to initialize the stream cache' });
    expect(lines.find((line) => line.spawnId === failure!.spawnId && line.to === 'failed')).toMatchObject({
      level: 'warn',
    });
    // The first spawn started the spawn helper: the other's exit, which the helper reports, is not that request's.
    expect(lines.filter((line) => line.spawnId === failure!.spawnId && line.reqId === 'req-obs-1')).toEqual([]);
    expect(failure!.reqId).toBeUndefined();
    // The license went to the server, and its command line was logged masked.
    expect(mine.find((line) => /starting on port/.test(line.msg))!.msg).toContain('--license ***');

    // One access line per request, with the request id; the key in a query is masked; liveliness at debug.
    const access = lines.filter((line) => line.req !== undefined && line.res !== undefined);
    const spawnLine = access.find((line) => line.reqId === 'req-obs-1');
    expect(spawnLine).toMatchObject({ level: 'info', msg: 'POST /spawn 200', req: { method: 'POST', url: '/spawn' } });
    expect(access.find((line) => line.reqId === generated)).toMatchObject({ msg: 'POST /spawn 502' });
    expect(access.find((line) => String(line.msg).startsWith('GET /events'))!.msg).toBe(
      'GET /events?access_token=*** 200',
    );
    expect(access.find((line) => String(line.msg).startsWith('GET /ws/'))).toMatchObject({
      msg: 'GET /ws/*** 404',
      req: { url: '/ws/***' },
    });
    expect(text).not.toContain(RELAY_TOKEN);
    const liveliness = access.filter((line) => String(line.msg).startsWith('POST /liveliness/'));
    expect(liveliness.length).toBeGreaterThan(0);
    for (const line of liveliness) expect(line.level).toBe('debug');
    expect(JSON.stringify(access)).not.toMatch(/authorization/i);
  });

  it('at the default level: no server output, one warning when listening beyond loopback without keys', async () => {
    const service = await startService({ HOST: '0.0.0.0', LOG_LEVEL: 'info', SC_MAX_SPAWNS: '1' });
    const ok = await rawRequest(service.url, 'POST', '/spawn', '{}', JSON_BODY);
    expect(ok.status).toBe(200);
    const full = await rawRequest(service.url, 'POST', '/spawn', '{}', { ...JSON_BODY, 'x-request-id': 'req-full' });
    expect(full.status).toBe(503);
    await rawRequest(service.url, 'DELETE', `/spawns/${ok.json().id}`);
    await waitFor(
      async () => (await rawRequest(service.url, 'GET', `/spawns/${ok.json().id}`)).json().state === 'exited',
      5000,
    );
    await service.stop(10_000);
    const lines = logLines(service);
    expect(lines.filter((line) => line.stream !== undefined)).toEqual([]);
    expect(lines.filter((line) => line.level === 'debug')).toEqual([]);
    expect(lines.filter((line) => /no API_KEYS/.test(line.msg))).toEqual([
      expect.objectContaining({ level: 'warn', msg: expect.stringMatching(/anyone who reaches 0\.0\.0\.0/) }),
    ]);
    // A refusal's access line carries the supervisor's reason, not a stack trace.
    expect(lines.find((line) => line.reqId === 'req-full')).toMatchObject({
      level: 'error',
      msg: 'POST /spawn 503',
      err: { type: 'NoCapacityError', message: 'all 1 spawn slots are in use', reason: 'slots' },
    });
    expect(JSON.stringify(lines.find((line) => line.reqId === 'req-full'))).not.toMatch(/\n\s+at /);
  });

  it('a storm of refusals: one access line per reason every 5 s, the next one says how many were left out', async () => {
    const service = await startService({ LOG_LEVEL: 'info', SC_MAX_SPAWNS: '1' });
    const ok = await rawRequest(service.url, 'POST', '/spawn', '{}', JSON_BODY);
    expect(ok.status).toBe(200);
    const storm = await Promise.all(
      Array.from({ length: 30 }, () => rawRequest(service.url, 'POST', '/spawn', '{}', JSON_BODY)),
    );
    expect(storm.map((answer) => answer.status)).toEqual(Array.from({ length: 30 }, () => 503));
    // The HOOPS Server's route refuses for the same reason: counted with them.
    const hoops = await Promise.all(
      Array.from({ length: 10 }, () =>
        rawRequest(service.url, 'POST', '/api/spawn', '{"class":"csr_session","params":{}}', JSON_BODY),
      ),
    );
    expect(hoops.map((answer) => answer.status)).toEqual(Array.from({ length: 10 }, () => 503));
    // And so does spawn on connect (a WebSocket to the service port), logged on its own.
    const connects = await Promise.all(
      Array.from({ length: 10 }, () => rawUpgrade(service.url, '/?renderingLocation=csr').answer),
    );
    expect(connects.map((answer) => answer.status)).toEqual(Array.from({ length: 10 }, () => 503));
    await sleep(REFUSAL_LOG_WINDOW_MS + 200);
    const later = await rawRequest(service.url, 'POST', '/spawn', '{}', { ...JSON_BODY, 'x-request-id': 'req-later' });
    expect(later.status).toBe(503);
    expect((await rawUpgrade(service.url, '/?renderingLocation=csr').answer).status).toBe(503);
    const metrics = parsePrometheus((await rawRequest(service.url, 'GET', '/metrics')).body);
    expect(sampleValue(metrics, 'sc_spawner_spawn_rejections_total', { reason: 'capacity' })).toBe(52);
    await rawRequest(service.url, 'DELETE', `/spawns/${ok.json().id}`);
    await service.stop(10_000);
    const refused = logLines(service).filter((line) => line.res !== undefined && / 503/.test(line.msg));
    expect(refused).toEqual([
      expect.objectContaining({ level: 'error', msg: 'POST /spawn 503' }),
      expect.objectContaining({
        level: 'error',
        reqId: 'req-later',
        msg: expect.stringMatching(
          /^POST \/spawn 503 \(and 39 more spawn requests refused for slots since \d{4}-\d\d-\d\dT[\d:.]+Z, not logged\)$/,
        ),
        refusalsNotLogged: 39,
        err: expect.objectContaining({ reason: 'slots' }),
      }),
    ]);
    const connectLines = logLines(service).filter((line) => line.msg.startsWith('spawn on connect refused'));
    expect(connectLines).toEqual([
      expect.objectContaining({
        level: 'info',
        msg: 'spawn on connect refused with 503: all 1 spawn slots are in use',
      }),
      expect.objectContaining({
        level: 'info',
        msg: expect.stringMatching(
          /^spawn on connect refused with 503: all 1 spawn slots are in use \(and 9 more spawns on connect refused for slots since \d{4}-\d\d-\d\dT[\d:.]+Z, not logged\)$/,
        ),
      }),
    ]);
  });

  it('/metrics matches what happened: outcomes, rejections, states, capacity, liveliness, proxy', async () => {
    const app = await startTrackedApp(cleanup, {
      ...FAST_TIMINGS,
      SC_PORT_BASE: String(PORT_BASE + 20),
      SC_MAX_SPAWNS: '2',
      SC_PORT_COUNT: '6',
      API_KEYS: API_KEY,
      SPAWN_RATE_LIMIT: '5/60s',
    });
    const scrape = async (): Promise<Sample[]> => {
      const answer = await rawRequest(app.url, 'GET', '/metrics', undefined, BEARER);
      expect(answer.status).toBe(200);
      expect(answer.headers['content-type']).toMatch(/^text\/plain;.*version=0\.0\.4/);
      return parsePrometheus(answer.body);
    };
    const before = await scrape();
    expect(sampleValue(before, 'sc_spawner_spawns_total', { renderer: 'csr', outcome: 'ready' })).toBe(0);
    expect(sampleValue(before, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);

    const post = (body: string, path = '/spawn') => rawRequest(app.url, 'POST', path, body, JSON_BODY);
    const first = await post('{}');
    expect(first.status).toBe(200);
    expect((await post('{"model":"scsim:exit-before-ready:6"}')).status).toBe(502);
    expect((await post('{"rendererType":"gpu"}')).status).toBe(400);
    const second = await post('{"class":"csr_session"}', '/api/spawn');
    expect(second.status).toBe(200);
    // Both slots in use: refused at the door, whatever the request (see the shedding test in spawn-capacity).
    expect((await post('{}')).status).toBe(503);
    const secondId = second.json().serviceId as string;
    expect((await rawRequest(app.url, 'DELETE', `/spawns/${secondId}`, undefined, BEARER)).status).toBe(202);
    await waitFor(() => app.supervisor.get(secondId)?.state === 'exited', 5000, { description: 'B to exit' });
    // A slot free again; a refusal at the door was not counted against the rate: this is the fifth, the next the sixth.
    expect((await post('{"rendererType":"gpu"}')).status).toBe(400);
    expect((await post('{}')).status).toBe(429); // the sixth request within SPAWN_RATE_LIMIT=5/60s
    // A spawn on connect from the same client is limited with it, and counted the same way.
    const limited = await rawUpgrade(app.url, '/?renderingLocation=csr', BEARER).answer;
    expect(limited.status).toBe(429);
    expect(limited.headers['retry-after']).toMatch(/^\d+$/);

    const viewer = await connectViewer(first.json().proxyEndpoint as string, { cleanup });
    await viewer.next(); // the server's hello
    await viewer.send('hello');
    expect((await viewer.next()).text).toBe('hello');

    const after = await scrape();
    const value = (name: string, labels: Record<string, string> = {}) =>
      sampleValue(after, `sc_spawner_${name}`, labels);
    expect(value('spawns_total', { renderer: 'csr', outcome: 'ready' })).toBe(2);
    expect(value('spawns_total', { renderer: 'csr', outcome: 'failed' })).toBe(1);
    expect(value('spawns_total', { renderer: 'csr', outcome: 'timed_out' })).toBe(0);
    expect(value('spawns_total', { renderer: 'ssr', outcome: 'ready' })).toBe(0);
    expect(value('spawn_duration_seconds_count', { renderer: 'csr', outcome: 'ready' })).toBe(2);
    const readyBucket = value('spawn_duration_seconds_bucket', { renderer: 'csr', outcome: 'ready', le: '60' });
    expect(readyBucket).toBe(2);
    expect(value('spawn_duration_seconds_bucket', { renderer: 'csr', outcome: 'ready', le: '0.005' })).toBe(0);
    expect(value('spawn_rejections_total', { reason: 'capacity' })).toBe(1);
    expect(value('spawn_rejections_total', { reason: 'invalid' })).toBe(2);
    expect(value('spawn_rejections_total', { reason: 'rate_limit' })).toBe(2);
    expect(value('spawn_rejections_total', { reason: 'ports' })).toBe(0);
    expect(value('spawn_rejections_total', { reason: 'disabled' })).toBe(0);
    expect(value('spawn_rejections_total', { reason: 'shutting_down' })).toBe(0);
    const states = Object.fromEntries(
      after.filter((s) => s.name === 'sc_spawner_spawns').map((s) => [s.labels.state, s.value]),
    );
    expect(states).toEqual({
      starting: 0,
      ready: 0,
      connected: 1,
      disconnected: 0,
      unresponsive: 0,
      timed_out: 0,
      terminating: 0,
      failed: 1,
      exited: 1,
    });
    expect(value('capacity')).toBe(2);
    expect(value('ports_free')).toBe(5);
    expect(value('server_exits_total', { reason: 'invalid_license' })).toBe(1);
    expect(value('server_exits_total', { reason: 'success' })).toBe(1);
    expect(value('liveliness_reports_total', { value: 'ready' })).toBeGreaterThanOrEqual(2);
    expect(value('proxy_connections')).toBe(1);
    expect(value('proxy_bytes_total', { direction: 'toServer' })).toBe(5);
    expect(value('proxy_bytes_total', { direction: 'toViewer' })).toBeGreaterThan(5);
    expect(value('sweep_duration_seconds_count')).toBeGreaterThan(0);
    await viewer.close();
    await waitFor(async () => sampleValue(await scrape(), 'sc_spawner_proxy_connections') === 0, 5000, {
      description: 'the proxy connection to be gone',
    });
  });

  it('an idle service wakes its main thread about ten times a second, not a hundred', async () => {
    // The default sweep (1 s), not the tests' 100 ms: only the service's own idle timers are counted.
    const service = await startService({ SWEEP_INTERVAL_MS: '1000' });
    const wakeUps = (): number =>
      Number(/^voluntary_ctxt_switches:\s+(\d+)$/m.exec(readFileSync(`/proc/${service.child.pid}/status`, 'utf8'))![1]);
    await sleep(1000);
    const before = wakeUps();
    await sleep(3000);
    // 100 a second with prom-client's default 10 ms lag sampling; about 14 with 100 ms, the sweep and the relay's heartbeat.
    expect((wakeUps() - before) / 3).toBeLessThan(40);
  });
});

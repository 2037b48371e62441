/**
 * End to end, as an attacker at the network edge would try it, with real simulator processes, real HTTP and real
 * WebSockets: every way in (spawn on connect, /ws/<id>, POST /spawn) is checked alike (Origin, credential,
 * shared rate limit), spawn tickets, a tunnel that never speaks, trusted proxies, and the smaller holes (Config.js
 * escaping its sandbox, an encoded access_token in the access log, X-Powered-By, slow headers, connection floods).
 * Every refusal is checked to have started no process.
 */
import { existsSync, writeFileSync } from 'fs';
import * as http from 'http';
import { connect as tcpConnect, type Socket } from 'net';
import { join } from 'path';
import request from 'supertest';
import { WebSocket } from 'ws';
import { AppConfig } from '../src/config/app-config';
import { MAX_PIPELINED_REQUESTS } from '../src/http/connection-cap';
import { useCleanup, type Cleanup } from './support/processes';
import { FAST_TIMINGS, startServiceProcess } from './support/spawner-app';
import {
  argAfter,
  canBindPort,
  procArgv,
  rawRequest,
  startTrackedApp,
  waitForProcessGone,
  type TrackedApp,
} from './support/spawner-e2e';
import { makeTempDir } from './support/temp';
import { connectViewer } from './support/viewer-client';
import { sleep, waitFor, withTimeout } from './support/wait';

/** This file's WebSocket port ranges (28000-28499): in-process apps below 28400, service processes above. */
const PORT_BASE = 28000;
const SERVICE_PORT_BASE = 28400;
const ENV = { ...FAST_TIMINGS, SC_PORT_BASE: String(PORT_BASE), SC_PORT_COUNT: '40' };
const KEY = 'k'.repeat(40);
const GOOD_ORIGIN = 'https://good.example';

interface UpgradeAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A raw WebSocket upgrade with chosen headers: the HTTP status it was answered with (101 once upgraded, then dropped). */
function tryUpgrade(url: string, path: string, headers: Record<string, string> = {}): Promise<UpgradeAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.request(new URL(path, url), {
      agent: false,
      headers: {
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
        ...headers,
      },
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body: '' });
    });
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function expectNothingStarted(app: TrackedApp): void {
  expect(app.supervisor.list()).toEqual([]);
  expect(app.knownPids()).toEqual([]);
}

/** A POST /spawn the body validation refuses (400) after the guards ran: it spends rate budget, starts nothing. */
function invalidSpawn(app: TrackedApp, headers: Record<string, string> = {}) {
  return request(app.url).post('/spawn').set(headers).send({ model: '../../etc/passwd' });
}

/** A TCP connection to the service from `localAddress` (any of 127.0.0.0/8 reaches it), open once connected. */
function openSocket(port: number, cleanup: Cleanup, localAddress = '127.0.0.1'): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect({ port, host: '127.0.0.1', localAddress }, () => resolve(socket));
    socket.on('error', reject);
    cleanup.add(() => void socket.destroy(), 'test socket');
  });
}

/** Sends a request on `socket`; resolves with what came back before the server closed it ('' when dropped unanswered). */
function exchange(socket: Socket, text: string, timeoutMs = 5000): Promise<string> {
  let received = '';
  socket.on('data', (chunk) => (received += chunk.toString()));
  const closed = new Promise<string>((resolve) => socket.once('close', () => resolve(received)));
  socket.on('error', () => undefined);
  socket.write(text);
  return withTimeout(closed, timeoutMs, 'the server to close the connection');
}

/** A spawn-on-connect WebSocket with chosen headers, open (its server started) until the test's cleanup. */
function openViewer(url: string, headers: Record<string, string>, cleanup: Cleanup): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    cleanup.add(() => void ws.terminate(), 'test viewer');
    ws.on('open', () => resolve(ws));
    ws.on('unexpected-response', (_req, res) => reject(new Error(`refused with ${res.statusCode}`)));
    ws.on('error', reject);
  });
}

describe('trust at the network edge (e2e)', () => {
  const cleanup = useCleanup();

  describe('spawn on connect goes through the gates of POST /spawn', () => {
    it('a page from a foreign Origin gets 403 before the upgrade, on spawn on connect and on /ws/<id>; no Origin or a listed one passes', async () => {
      const app = await startTrackedApp(cleanup, { ...ENV, CORS_ORIGINS: GOOD_ORIGIN });
      for (const path of ['/?renderingLocation=csr', '/', `/n/${app.app.get(AppConfig).nodeName}/`]) {
        const answer = await tryUpgrade(app.url, path, { origin: 'https://evil.example' });
        expect({ path, status: answer.status }).toEqual({ path, status: 403 });
        expect(answer.body).toMatch(/origin "https:\/\/evil.example" may not open WebSockets here \(CORS_ORIGINS\)/);
      }
      expectNothingStarted(app);

      // An existing session's relay refuses a foreign page the same way, and lets a listed one through.
      const spawn = (await request(app.url).post('/spawn').send({}).expect(200)).body as {
        id: string;
        proxyEndpoint: string;
      };
      const relayPath = new URL(spawn.proxyEndpoint).pathname; // /ws/<relay token>
      expect((await tryUpgrade(app.url, relayPath, { origin: 'https://evil.example' })).status).toBe(403);
      expect(app.supervisor.get(spawn.id)?.state).toBe('ready');
      const viewer = await connectViewer(`ws://127.0.0.1:${app.port}${relayPath}`, { cleanup });
      expect((await viewer.nextJson()).type).toBe('hello');
      await viewer.close();

      // No Origin (not a browser) and the listed origin reach the other gates: they spawn.
      expect((await tryUpgrade(app.url, '/?renderingLocation=csr', { origin: GOOD_ORIGIN })).status).toBe(101);
      expect((await tryUpgrade(app.url, '/?renderingLocation=csr')).status).toBe(101);
      await waitFor(() => app.supervisor.list().length === 3, 5000, { description: 'two spawns on connect' });
    });

    it('past SPAWN_RATE_LIMIT, spent by POST /spawn, the upgrade gets 429 with Retry-After and starts nothing', async () => {
      const app = await startTrackedApp(cleanup, { ...ENV, SPAWN_RATE_LIMIT: '2/60s' });
      await invalidSpawn(app).expect(400);
      await invalidSpawn(app).expect(400);
      const answer = await tryUpgrade(app.url, '/?renderingLocation=csr');
      expect(answer.status).toBe(429);
      expect(Number(answer.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(answer.body).toMatch(
        /too many spawn requests from this address \(or its IPv6 \/64\): at most 2 per 60 s \(SPAWN_RATE_LIMIT\)/,
      );
      const http429 = await invalidSpawn(app).expect(429);
      expect(Number(http429.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expectNothingStarted(app);
    });

    it('the upgrades spend the same budget as POST /spawn', async () => {
      const app = await startTrackedApp(cleanup, { ...ENV, SPAWN_RATE_LIMIT: '2/60s' });
      expect((await tryUpgrade(app.url, '/?renderingLocation=csr')).status).toBe(101);
      await invalidSpawn(app).expect(400);
      await invalidSpawn(app).expect(429);
      expect((await tryUpgrade(app.url, '/?renderingLocation=csr')).status).toBe(429);
      await waitFor(() => app.supervisor.list().length === 1, 5000, { description: 'the one spawn on connect' });
      await sleep(200);
      expect(app.supervisor.list()).toHaveLength(1);
    });

    it('under SPAWN_AUTH=required: no ticket or a forged one is 401 before the upgrade; an API key header is a credential', async () => {
      const app = await startTrackedApp(cleanup, { ...ENV, API_KEYS: KEY, SPAWN_AUTH: 'required' });
      const bare = await tryUpgrade(app.url, '/?renderingLocation=csr');
      expect(bare.status).toBe(401);
      expect(bare.headers['www-authenticate']).toMatch(/^Bearer/);
      expect(bare.body).toMatch(/a spawn ticket \(\?ticket=, from POST \/tickets\) or an API key is required/);
      expect((await tryUpgrade(app.url, '/?ticket=forged')).status).toBe(401);
      expect((await tryUpgrade(app.url, '/', { authorization: `Bearer ${'x'.repeat(40)}` })).status).toBe(401);
      expectNothingStarted(app);
      expect((await tryUpgrade(app.url, '/', { authorization: `Bearer ${KEY}` })).status).toBe(101);
      await waitFor(() => app.supervisor.list().length === 1, 5000, { description: 'the keyed spawn on connect' });
    });
  });

  describe('spawn tickets', () => {
    it('POST /tickets needs a key and validates like POST /spawn; the ticket spawns once, with its parameters, then is refused', async () => {
      const app = await startTrackedApp(cleanup, { ...ENV, API_KEYS: KEY, SPAWN_AUTH: 'required' });
      const body = { rendererType: 'csr', model: 'microengine', sessionToken: 'ticket-token-1' };
      await request(app.url).post('/tickets').send(body).expect(401);
      const invalid = await request(app.url)
        .post('/tickets')
        .set('authorization', `Bearer ${KEY}`)
        .send({ model: '../x' })
        .expect(400);
      expect(JSON.stringify(invalid.body)).toMatch(/model/);
      expectNothingStarted(app);

      const issued = await request(app.url)
        .post('/tickets')
        .set('authorization', `Bearer ${KEY}`)
        .send(body)
        .expect(200);
      const { ticket, url, expiresAt } = issued.body as { ticket: string; url: string; expiresAt: string };
      const node = app.app.get(AppConfig).nodeName;
      expect(url).toBe(`ws://127.0.0.1:${app.port}/n/${node}/?renderingLocation=csr&ticket=${ticket}`);
      expect(Date.parse(expiresAt) - Date.now()).toBeGreaterThan(20_000);
      expectNothingStarted(app);

      // A tampered ticket is unknown.
      const tampered = url.replace(/ticket=(.)/, (_m, c: string) => `ticket=${c === 'A' ? 'B' : 'A'}`);
      expect((await tryUpgrade(app.url, new URL(tampered).pathname + new URL(tampered).search)).status).toBe(401);
      expectNothingStarted(app);

      const viewer = await connectViewer(url, { cleanup });
      await viewer.send(JSON.stringify({ sessionToken: 'ticket-token-1' }));
      const hello = await viewer.nextJson<{
        type: string;
        model: string;
        sessionToken: boolean;
        rendererType: string;
      }>();
      expect(hello).toMatchObject({ type: 'hello', model: 'microengine', sessionToken: true, rendererType: 'csr' });
      const [record] = app.supervisor.list();
      expect(argAfter(procArgv(record.pid!), '--session-token')).toBe('ticket-token-1');
      expect(record.spec).toMatchObject({ rendererType: 'csr', model: 'microengine' });

      // Used: refused, and nothing more is started.
      const again = new URL(url);
      const reuse = await tryUpgrade(app.url, again.pathname + again.search);
      expect(reuse.status).toBe(401);
      expect(reuse.body).toMatch(/the spawn ticket is not valid: unknown, already used or expired/);
      expect(app.supervisor.list()).toHaveLength(1);
      await viewer.close();
    });

    it('an expired ticket is refused and starts nothing; without keys tickets are accepted but not needed', async () => {
      const keyed = await startTrackedApp(cleanup, { ...ENV, API_KEYS: KEY, SC_TICKET_TTL_S: '0.3' });
      const { url } = (
        await request(keyed.url).post('/tickets').set('authorization', `Bearer ${KEY}`).send({}).expect(200)
      ).body as { url: string };
      await sleep(500);
      const target = new URL(url);
      expect((await tryUpgrade(keyed.url, target.pathname + target.search)).status).toBe(401);
      expectNothingStarted(keyed);

      const open = await startTrackedApp(cleanup, { ...ENV, SC_PORT_BASE: String(PORT_BASE + 100) });
      const ticketUrl = (
        (await request(open.url).post('/tickets').send({ model: 'microengine' }).expect(200)).body as {
          url: string;
        }
      ).url;
      const viewer = await connectViewer(ticketUrl, { cleanup });
      expect(await viewer.nextJson()).toMatchObject({ type: 'hello', model: 'microengine' });
      await viewer.close();
      expect((await tryUpgrade(open.url, '/?renderingLocation=csr')).status).toBe(101);
    });

    it('POST /tickets refuses a ticket no viewer could use: its renderer disabled, or spawn on connect off (403)', async () => {
      const bearer = { authorization: `Bearer ${KEY}` };
      const app = await startTrackedApp(cleanup, { ...ENV, API_KEYS: KEY, SSR_ENABLED: 'false' });
      const ssr = await request(app.url).post('/tickets').set(bearer).send({ rendererType: 'ssr' }).expect(403);
      expect(ssr.body.message).toBe('SSR rendering is disabled on this server (SSR_ENABLED=false)');
      await request(app.url).post('/tickets').set(bearer).send({}).expect(200);
      const off = await startTrackedApp(cleanup, {
        ...ENV,
        API_KEYS: KEY,
        SPAWN_ON_CONNECT: 'false',
        SC_PORT_BASE: String(PORT_BASE + 200),
      });
      const refused = await request(off.url).post('/tickets').set(bearer).send({}).expect(403);
      expect(refused.body.message).toMatch(/spawn on connect, which is off on this node \(SPAWN_ON_CONNECT=false\)/);
      expectNothingStarted(app);
      expectNothingStarted(off);
    });

    it("one key's open tickets stop at its cap (its session quota, else 100): 429 with Retry-After; other keys still get theirs", async () => {
      const bob = 'b'.repeat(40);
      const app = await startTrackedApp(cleanup, {
        ...ENV,
        API_KEYS: `alice=${KEY},bob=${bob}`,
        SPAWN_AUTH: 'required',
        SC_KEY_MAX_SESSIONS: 'alice=2',
      });
      const ticketFor = (key: string) =>
        request(app.url).post('/tickets').set('authorization', `Bearer ${key}`).send({});
      for (let i = 0; i < 2; i++) await ticketFor(KEY).expect(200);
      const refused = await ticketFor(KEY).expect(429);
      expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(30);
      expect(refused.body.message).toMatch(
        /^too many spawn tickets: key alice already has 2 waiting for their viewers on this node; open a viewer with one of them, or retry after \d+ s/,
      );
      for (let i = 0; i < 100; i++) await ticketFor(bob).expect(200);
      expect((await ticketFor(bob).expect(429)).body.message).toMatch(/key bob already has 100 waiting/);
      expectNothingStarted(app);
    });
  });

  it('a tunnel whose viewer never speaks is closed with 4004 "no first message", its server stopped and its port free', async () => {
    const app = await startTrackedApp(cleanup, { ...ENV, SC_FIRST_MESSAGE_TIMEOUT_S: '1' });
    const silent = await connectViewer(`ws://127.0.0.1:${app.port}/?renderingLocation=csr`, { cleanup });
    const talker = await connectViewer(`ws://127.0.0.1:${app.port}/?renderingLocation=csr`, { cleanup });
    await talker.send('hi');
    const talkerRecord = await waitFor(() => app.supervisor.list().find((r) => r.bytesToServer > 0), 5000, {
      description: 'the talking viewer bytes to be counted',
    });
    const silentRecord = app.supervisor.list().find((r) => r.id !== talkerRecord.id)!;
    const close = await withTimeout(silent.closed, 5000, 'the silent viewer to be closed');
    expect(close).toEqual({ code: 4004, reason: 'no first message' });
    await waitForProcessGone(silentRecord.pid!);
    await waitFor(() => canBindPort(silentRecord.spec.wsPort), 5000, {
      description: 'the silent session port to be free',
    });
    // The viewer that spoke keeps its session.
    await sleep(500);
    expect(talker.ws.readyState).toBe(talker.ws.OPEN);
    await talker.close();
  });

  describe('trusted proxies', () => {
    it('X-Forwarded-For from an address TRUST_PROXY does not list is ignored by the rate limit (HTTP and upgrades)', async () => {
      const app = await startTrackedApp(cleanup, {
        ...ENV,
        TRUST_PROXY: '10.9.9.9,192.168.0.0/16',
        SPAWN_RATE_LIMIT: '1/60s',
      });
      await invalidSpawn(app, { 'x-forwarded-for': '1.1.1.1' }).expect(400);
      await invalidSpawn(app, { 'x-forwarded-for': '2.2.2.2' }).expect(429);
      expect((await tryUpgrade(app.url, '/', { 'x-forwarded-for': '3.3.3.3' })).status).toBe(429);
      expectNothingStarted(app);
    });

    it('from a trusted proxy (TRUST_PROXY=loopback) each forwarded client has its own budget', async () => {
      const app = await startTrackedApp(cleanup, { ...ENV, TRUST_PROXY: 'loopback', SPAWN_RATE_LIMIT: '1/60s' });
      await invalidSpawn(app, { 'x-forwarded-for': '1.1.1.1' }).expect(400);
      await invalidSpawn(app, { 'x-forwarded-for': '2.2.2.2' }).expect(400);
      await invalidSpawn(app, { 'x-forwarded-for': '2.2.2.2' }).expect(429);
      expect((await tryUpgrade(app.url, '/', { 'x-forwarded-for': '1.1.1.1' })).status).toBe(429);
      expectNothingStarted(app);
    });

    it('an IPv6 client counts by its /64 (rate limit, session quota), an IPv4-mapped one as its IPv4 address', async () => {
      const app = await startTrackedApp(cleanup, {
        ...ENV,
        TRUST_PROXY: 'loopback',
        SPAWN_RATE_LIMIT: '3/60s',
        SC_KEY_MAX_SESSIONS: '*=1',
      });
      const from = (client: string) => ({ 'x-forwarded-for': client });
      await request(app.url).post('/spawn').set(from('2001:db8:5:6::1')).send({}).expect(200);
      const quota = await request(app.url).post('/spawn').set(from('2001:db8:5:6:ffff::2')).send({}).expect(429);
      expect(quota.body.message).toMatch(/this client address already has 1 live session\(s\)/);
      await invalidSpawn(app, from('2001:db8:5:6::3')).expect(400);
      const rate = await tryUpgrade(app.url, '/?renderingLocation=csr', from('2001:db8:5:6::4'));
      expect(rate.status).toBe(429);
      expect(rate.body).toMatch(/too many spawn requests/);
      await request(app.url).post('/spawn').set(from('2001:db8:5:7::1')).send({}).expect(200);
      expect(
        app.supervisor
          .list()
          .map((spawn) => spawn.owner?.bucket)
          .sort(),
      ).toEqual(['addr:2001:db8:5:6::/64', 'addr:2001:db8:5:7::/64']);
      for (let i = 0; i < 3; i++) await invalidSpawn(app, from('203.0.113.9')).expect(400);
      await invalidSpawn(app, from('::ffff:203.0.113.9')).expect(429);
    });

    it('from a trusted proxy each forwarded client has its own session quota on spawn on connect, as on POST /spawn', async () => {
      const app = await startTrackedApp(cleanup, { ...ENV, TRUST_PROXY: 'loopback', SC_KEY_MAX_SESSIONS: '*=1' });
      const url = `ws://127.0.0.1:${app.port}/?renderingLocation=csr`;
      await openViewer(url, { 'x-forwarded-for': '1.1.1.1' }, cleanup);
      await openViewer(url, { 'x-forwarded-for': '2.2.2.2' }, cleanup);
      const again = await tryUpgrade(app.url, '/?renderingLocation=csr', { 'x-forwarded-for': '1.1.1.1' });
      expect(again.status).toBe(429);
      expect(again.body).toMatch(/this client address already has 1 live session\(s\)/);
      const buckets = app.supervisor.list().map((spawn) => spawn.owner?.bucket);
      expect(buckets.sort()).toEqual(['addr:1.1.1.1', 'addr:2.2.2.2']);
    });
  });

  describe('smaller holes', () => {
    it('no X-Powered-By on any answer', async () => {
      const app = await startTrackedApp(cleanup, ENV);
      for (const path of ['/health', '/spawns', '/nope']) {
        const response = await rawRequest(app.url, 'GET', path);
        expect(response.headers['x-powered-by']).toBeUndefined();
      }
    });

    it('a client sending its headers slowly is cut off after HEADERS_TIMEOUT_S', async () => {
      const app = await startTrackedApp(cleanup, { ...ENV, HEADERS_TIMEOUT_S: '1', REQUEST_TIMEOUT_S: '2' });
      const socket = await openSocket(app.port, cleanup);
      const trickle = setInterval(() => socket.writable && socket.write('X-Slow: 1\r\n'), 200);
      cleanup.add(() => clearInterval(trickle), 'trickle timer');
      const answer = await exchange(socket, 'GET /health HTTP/1.1\r\nHost: x\r\n', 6000);
      clearInterval(trickle);
      expect(answer).toMatch(/^HTTP\/1.1 408/);
      // Others are still served.
      await request(app.url).get('/health').expect(200);
    });

    it('CONNECT is answered 405 and the connection closed, not dropped without a word', async () => {
      const app = await startTrackedApp(cleanup, ENV);
      for (const target of ['127.0.0.1:443', '/spawns']) {
        const socket = await openSocket(app.port, cleanup, '127.0.0.2');
        const answer = await exchange(socket, `CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`);
        expect(answer).toMatch(/^HTTP\/1.1 405 /);
      }
      await request(app.url).get('/health').expect(200);
    });

    it('a WebSocket upgrade without Host, or over HTTP/1.0, is refused with 400 before anything starts', async () => {
      const app = await startTrackedApp(cleanup, ENV);
      const spawn = (await request(app.url).post('/spawn').send({}).expect(200)).body as { proxyEndpoint: string };
      const relayPath = new URL(spawn.proxyEndpoint).pathname;
      const upgrade = (path: string, version: string, host: string) =>
        `GET ${path} HTTP/${version}\r\n${host}Upgrade: websocket\r\nConnection: Upgrade\r\n` +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';
      const host = `Host: 127.0.0.1:${app.port}\r\n`;
      for (const [path, version, header, reason] of [
        ['/?renderingLocation=csr', '1.1', '', 'must name the server in Host'],
        [relayPath, '1.1', '', 'must name the server in Host'],
        ['/?renderingLocation=csr', '1.0', host, 'must be HTTP/1.1'],
      ]) {
        const answer = await exchange(await openSocket(app.port, cleanup), upgrade(path, version, header));
        expect({ path, version, answer }).toEqual({ path, version, answer: expect.stringMatching(/^HTTP\/1.1 400 /) });
        expect(answer).toContain(reason);
      }
      expect(app.supervisor.list()).toHaveLength(1);
      // The same upgrade naming the server spawns: the refusals above were for the missing Host alone.
      const socket = await openSocket(app.port, cleanup);
      let answer = '';
      socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
      socket.write(upgrade('/?renderingLocation=csr', '1.1', host));
      await waitFor(() => answer.startsWith('HTTP/1.1 101 '), 5000, { description: () => `the 101: ${answer}` });
      await waitFor(() => app.supervisor.list().length === 2, 5000, { description: 'the spawn on connect' });
    });

    it('a client pipelining requests without reading the answers is dropped past MAX_PIPELINED_REQUESTS: the rest are never handled', async () => {
      const app = await startTrackedApp(cleanup, ENV);
      const other = '127.0.0.2';
      const responses: http.ServerResponse[] = [];
      (app.app.getHttpServer() as http.Server).on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
        if (req.socket.remoteAddress === other) responses.push(res);
      });
      const socket = await openSocket(app.port, cleanup, other);
      socket.pause(); // reads no answer
      socket.on('error', () => undefined);
      socket.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(4000));
      await waitFor(() => responses.length > MAX_PIPELINED_REQUESTS, 10_000, {
        description: 'the service to read past the cap',
      });
      await sleep(500); // what it would still handle of them, were the cap not there
      // Answered (ended) by a route, whether or not the answer could be written.
      const handled = responses.filter((res) => res.writableEnded).length;
      expect(responses.length).toBeGreaterThan(MAX_PIPELINED_REQUESTS);
      expect(handled).toBeGreaterThan(0);
      expect(handled).toBeLessThanOrEqual(MAX_PIPELINED_REQUESTS);
      // Others are still served, and a client reading its answers may send one request after another.
      const keptAlive = await openSocket(app.port, cleanup, other);
      for (let i = 0; i < MAX_PIPELINED_REQUESTS + 4; i++) {
        const answer = new Promise<string>((resolve) => keptAlive.once('data', (chunk) => resolve(chunk.toString())));
        keptAlive.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n');
        expect(await withTimeout(answer, 5000, 'an answer')).toMatch(/^HTTP\/1.1 200/);
      }
    });

    it("MAX_CONNECTIONS_PER_CLIENT: one more connection from the same address is dropped unanswered; a trusted proxy and the servers' own address are exempt", async () => {
      const app = await startTrackedApp(cleanup, { ...ENV, MAX_CONNECTIONS_PER_CLIENT: '3' });
      // Another client: an address other than the one the service is reached at (127.0.0.1).
      const other = '127.0.0.2';
      const held = await Promise.all([1, 2, 3].map(() => openSocket(app.port, cleanup, other)));
      await sleep(100);
      const extra = await openSocket(app.port, cleanup, other);
      expect(await exchange(extra, 'GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).toBe('');
      held[0].destroy();
      await sleep(100);
      const after = await openSocket(app.port, cleanup, other);
      expect(await exchange(after, 'GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).toMatch(
        /^HTTP\/1.1 200/,
      );
      // From 127.0.0.1 itself, the address the servers' liveliness reports come from: never dropped, so nobody
      // holding connections from it can keep those reports out.
      await Promise.all([1, 2, 3, 4].map(() => openSocket(app.port, cleanup, '127.0.0.1')));
      const fifth = await openSocket(app.port, cleanup, '127.0.0.1');
      expect(await exchange(fifth, 'GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).toMatch(
        /^HTTP\/1.1 200/,
      );

      const proxied = await startTrackedApp(cleanup, {
        ...ENV,
        MAX_CONNECTIONS_PER_CLIENT: '3',
        TRUST_PROXY: 'loopback',
      });
      // A proxy on this machine, at another loopback address.
      await Promise.all([1, 2, 3, 4].map(() => openSocket(proxied.port, cleanup, other)));
      const proxiedFifth = await openSocket(proxied.port, cleanup, other);
      expect(await exchange(proxiedFifth, 'GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).toMatch(
        /^HTTP\/1.1 200/,
      );
    });

    it('a Config.js escaping its sandbox (globalThis.constructor.constructor) cannot run a command; the service stops with one line', async () => {
      const dir = makeTempDir(cleanup);
      const marker = join(dir, 'escaped');
      const configFile = join(dir, 'Config.js');
      writeFileSync(
        configFile,
        `const p = globalThis.constructor.constructor('return process')();\n` +
          `p.mainModule.require('child_process').execSync('touch ${marker}');\n` +
          `module.exports = { spawnServerPort: 11182 };\n`,
      );
      const service = startServiceProcess(SERVICE_PORT_BASE + 50, {
        ...ENV,
        SC_PORT_BASE: String(SERVICE_PORT_BASE),
        HOOPS_CONFIG: configFile,
      });
      await expect(service).rejects.toThrow(/exited \(code 1/);
      const output = await service.catch((error: Error) => error.message);
      expect(output).toMatch(
        /HOOPS_CONFIG .*Config\.js: evaluating it threw EvalError: Code generation from strings disallowed/,
      );
      expect(existsSync(marker)).toBe(false);
    });

    it('the access log masks access_token whatever the encoding of its name', async () => {
      const port = SERVICE_PORT_BASE + 51;
      const service = await startServiceProcess(port, {
        ...ENV,
        SC_PORT_BASE: String(SERVICE_PORT_BASE),
        API_KEYS: KEY,
        LOG_LEVEL: 'info',
      });
      cleanup.add(() => service.stop().then(() => undefined), 'service process');
      // Not a configured key (those are masked wherever they appear): only the parameter's name can hide it.
      const secret = `s3cret-${process.pid}-${Date.now()}`;
      for (const name of ['access%5Ftoken', 'ACCESS_TOKEN', 'access%5ftoken', '%61ccess_token', 'access_token']) {
        await rawRequest(service.url, 'GET', `/spawns?${name}=${secret}`);
      }
      await rawRequest(service.url, 'GET', `/spawns?marker=done`);
      await waitFor(() => service.output.join('').includes('marker=done'), 5000, {
        description: 'the last access line',
      });
      const log = service.output.join('');
      expect(log).toMatch(/access%5Ftoken=\*\*\*/);
      expect(log).toMatch(/%61ccess_token=\*\*\*/);
      expect(log).not.toContain(secret);
    });
  });
});

/**
 * End to end, with real simulator processes: the server-sent session events (GET /events,
 * GET /spawns/:id/events) read with a raw streaming HTTP client (supertest buffers until the end),
 * keep-alives, the end of a spawn's stream once it has exited, subscribers that leave nothing behind,
 * and the captured output at GET /spawns/:id/logs.
 */
import { chmodSync, writeFileSync } from 'fs';
import * as path from 'path';
import type { Subject } from 'rxjs';
import request from 'supertest';
import { HistoryRecorder } from '../src/history/history.recorder';
import { SpawnMetricsObserver } from '../src/metrics/spawn-metrics.observer';
import { SpawnEvents } from '../src/supervisor/runtime/spawn-events';
import { SupervisorService } from '../src/supervisor/runtime/supervisor.service';
import { CountedSpawnEvents } from './fakes';
import { Cleanup, useCleanup } from './support/processes';
import { FAST_TIMINGS, startApp, type RunningApp } from './support/spawner-app';
import { waitForProcessGone, waitForSpawnState } from './support/spawner-e2e';
import { openSse, type SseClient } from './support/sse-client';
import { SIM_EXECUTABLE } from './support/simulator';
import { makeTempDir } from './support/temp';
import { waitFor, withTimeout } from './support/wait';

/** This file's WebSocket port range (the HOOPS API e2e file uses 23000-23099). */
const PORT_BASE = 23100;
const ENV = { ...FAST_TIMINGS, SC_PORT_BASE: String(PORT_BASE), SC_PORT_COUNT: '40' };
const ORIGIN = 'http://viewer-app.example';
const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';

interface EventsApp extends RunningApp {
  supervisor: SupervisorService;
  /** The service's stream of state changes, counting its subscribers. */
  events: CountedSpawnEvents;
  /** Whether anything is still subscribed to the service's stream of state changes. */
  observed(): boolean;
  /** Open TCP connections to the service's HTTP server. */
  connections(): Promise<number>;
  /** Closes the app (idempotent; cleanup calls it too). */
  close(): Promise<void>;
}

/**
 * The production app in-process, without any subscriber of its own to the state changes (so that the
 * tests can see there is none left). At cleanup it is closed and every server it started must be gone.
 */
async function startEventsApp(cleanup: Cleanup, env: Record<string, string>): Promise<EventsApp> {
  // The service's own subscribers (the metrics observer, the history recorder) are replaced by inert ones: these
  // tests count the streams' subscribers.
  const running = await startApp(env, (builder) =>
    builder
      .overrideProvider(SpawnEvents)
      .useClass(CountedSpawnEvents)
      .overrideProvider(SpawnMetricsObserver)
      .useValue({})
      .overrideProvider(HistoryRecorder)
      .useValue({ snapshot: () => ({}) }),
  );
  const supervisor = running.app.get(SupervisorService);
  const events: CountedSpawnEvents = running.app.get(SpawnEvents);
  const { subject } = events as unknown as { subject: Subject<unknown> };
  let closed: Promise<void> | undefined;
  const close = () => (closed ??= running.close());
  cleanup.add(async () => {
    const pids = supervisor.list().flatMap((record) => (record.pid === undefined ? [] : [record.pid]));
    await close();
    for (const pid of pids) await waitForProcessGone(pid);
  }, `events app on port ${running.port}`);
  return {
    ...running,
    supervisor,
    events,
    observed: () => subject.observed,
    connections: () =>
      new Promise((resolve, reject) =>
        running.app
          .getHttpServer()
          .getConnections((error: Error | null, count: number) => (error ? reject(error) : resolve(count))),
      ),
    close,
  };
}

async function spawnReady(url: string, body: object = {}): Promise<{ id: string; pid: number }> {
  const response = await request(url).post('/api/spawn').send(body);
  expect(response.status).toBe(200);
  const id = response.body.serviceId as string;
  const view = await waitForSpawnState(url, id, 'ready');
  return { id, pid: view.pid! };
}

/** Every event must have exactly the documented shape. */
function expectEventShape(event: any, id: string): void {
  expect(Object.keys(event).sort()).toEqual(expect.arrayContaining(['at', 'id', 'previousState', 'state']));
  expect(Object.keys(event).every((key) => ['id', 'state', 'previousState', 'at', 'detail'].includes(key))).toBe(true);
  expect(event.id).toBe(id);
  expect(new Date(event.at).toISOString()).toBe(event.at);
}

async function expectNoSubscribers(app: EventsApp): Promise<void> {
  await waitFor(() => app.events.subscribers === 0 && !app.observed(), 5000, {
    description: () => `no subscribers (count ${app.events.subscribers}, observed ${app.observed()})`,
  });
}

describe('session events and logs (e2e)', () => {
  const cleanup = useCleanup();

  describe('GET /spawns/:id/events', () => {
    it('starts with the current state, streams terminating and exited after DELETE, then ends', async () => {
      const app = await startEventsApp(cleanup, ENV);
      const { id, pid } = await spawnReady(app.url, { params: { model: 'microengine' } });
      const sse = await openSse(app.url, `/spawns/${id}/events`, { cleanup, headers: { origin: ORIGIN } });
      expect(sse.status).toBe(200);
      expect(sse.headers['content-type']).toMatch(/^text\/event-stream/);
      expect(sse.headers['cache-control']).toMatch(/no-cache/);
      expect(sse.headers['access-control-allow-origin']).toBe(ORIGIN);

      const current = await sse.waitForEvent((e) => e.state === 'ready');
      expect(sse.events[0]).toBe(current);
      expect(current).toMatchObject({ id, state: 'ready', previousState: null });
      expectEventShape(current, id);
      expect(app.events.subscribers).toBe(1);
      expect(app.observed()).toBe(true);
      expect(sse.isEnded()).toBe(false);

      await request(app.url).delete(`/spawns/${id}`).expect(202);
      expect(await withTimeout(sse.ended, 5000, 'the stream to end after the exit')).toBe('end');
      expect(sse.events.map((e) => [e.previousState, e.state])).toEqual([
        [null, 'ready'],
        ['ready', 'terminating'],
        ['terminating', 'exited'],
      ]);
      for (const event of sse.events) expectEventShape(event, id);
      expect(sse.events[1].detail).toMatch(/DELETE/);
      expect(sse.events[2].detail).toMatch(/exit code 0/);
      const times = sse.events.map((e) => Date.parse(e.at));
      expect([...times].sort((a, b) => a - b)).toEqual(times);
      await waitForProcessGone(pid);
      await expectNoSubscribers(app);
      await sse.close(); // the response is complete; the client lets go of its connection
      await waitFor(async () => (await app.connections()) === 0, 2000, { description: 'the connection to be closed' });
    });

    it('joined while the spawn is starting: starting first, then ready once it is', async () => {
      const app = await startEventsApp(cleanup, ENV);
      const all = await openSse(app.url, '/events', { cleanup });
      await waitFor(() => app.events.subscribers === 1, 2000, { description: 'the subscriber to be registered' });
      const spawning = request(app.url)
        .post('/api/spawn')
        .send({ params: { model: 'scsim:slow-ready:1000' } })
        .then((r) => r);
      const starting = await all.waitForEvent((e) => e.state === 'starting');
      const one = await openSse(app.url, `/spawns/${starting.id}/events`, { cleanup });
      const first = await one.waitForEvent(() => true);
      expect(first).toMatchObject({ id: starting.id, state: 'starting', previousState: null, detail: 'current state' });
      const response = await spawning;
      expect(response.status).toBe(200);
      expect(response.body.serviceId).toBe(starting.id);
      await one.waitForEvent((e) => e.state === 'ready');
      expect(one.events.map((e) => [e.previousState, e.state])).toEqual([
        [null, 'starting'],
        ['starting', 'ready'],
      ]);
      await request(app.url).delete(`/spawns/${starting.id}`).expect(202);
      await withTimeout(one.ended, 5000, 'the stream to end after the exit');
      expect(one.events.map((e) => e.state)).toEqual(['starting', 'ready', 'terminating', 'exited']);
      await all.close();
      await expectNoSubscribers(app);
    });

    it('follows a server that crashes on its own: the exit, then the end of the stream', async () => {
      const app = await startEventsApp(cleanup, ENV);
      const { id } = await spawnReady(app.url, { params: { model: 'scsim:crash-after:400' } });
      const sse = await openSse(app.url, `/spawns/${id}/events`, { cleanup });
      expect(await withTimeout(sse.ended, 5000, 'the stream to end after the crash')).toBe('end');
      expect(sse.events.map((e) => e.state)).toEqual(['ready', 'exited']);
      expect(sse.events[1]).toMatchObject({
        id,
        previousState: 'ready',
        detail: expect.stringMatching(/exit code 1 \(unexpected exit\)/),
      });
      await expectNoSubscribers(app);
    });

    it('for a spawn that has already ended: its final state, then the stream ends at once', async () => {
      const app = await startEventsApp(cleanup, ENV);
      const failed = await request(app.url)
        .post('/api/spawn')
        .send({ params: { model: 'scsim:exit-before-ready:7' } });
      expect(failed.status).toBe(500);
      const [record] = app.supervisor.list();
      const sse = await openSse(app.url, `/spawns/${record.id}/events`, { cleanup });
      expect(sse.status).toBe(200);
      expect(await withTimeout(sse.ended, 2000, 'the stream of an ended spawn to end')).toBe('end');
      expect(sse.events).toEqual([
        { id: record.id, state: 'failed', previousState: null, at: expect.any(String), detail: expect.any(String) },
      ]);
      await expectNoSubscribers(app);
    });

    it('answers 404 for an unknown id, and opens no stream', async () => {
      const app = await startEventsApp(cleanup, ENV);
      const sse = await openSse(app.url, `/spawns/${UNKNOWN_ID}/events`, { cleanup });
      await withTimeout(sse.ended, 2000, 'the 404 response to end');
      expect(sse.status).toBe(404);
      expect(sse.headers['content-type']).toMatch(/^application\/json/);
      expect(JSON.parse(sse.raw())).toMatchObject({ statusCode: 404, message: expect.stringContaining(UNKNOWN_ID) });
      expect(app.events.subscribers).toBe(0);
      expect(app.observed()).toBe(false);
    });
  });

  describe('GET /events', () => {
    it("streams every spawn's changes: starting -> ready of a new spawn, starting -> failed of another", async () => {
      const app = await startEventsApp(cleanup, ENV);
      const sse = await openSse(app.url, '/events', { cleanup, headers: { origin: ORIGIN } });
      expect(sse.status).toBe(200);
      expect(sse.headers['content-type']).toMatch(/^text\/event-stream/);
      expect(sse.headers['access-control-allow-origin']).toBe(ORIGIN);
      await waitFor(() => app.events.subscribers === 1, 2000, { description: 'the subscriber to be registered' });

      const { id } = await spawnReady(app.url);
      await sse.waitForEvent((e) => e.id === id && e.state === 'ready');
      const mine = sse.events.filter((e) => e.id === id);
      expect(mine.map((e) => [e.previousState, e.state])).toEqual([
        [null, 'starting'],
        ['starting', 'ready'],
      ]);
      for (const event of mine) expectEventShape(event, id);
      expect(mine[1].detail).toMatch(/ready after \d+ ms/);

      await request(app.url)
        .post('/api/spawn')
        .send({ params: { model: 'scsim:exit-before-ready:6' } })
        .expect(500);
      const failure = await sse.waitForEvent((e) => e.state === 'failed');
      expect(failure.detail).toMatch(/exit code 6 \(invalid license\)/);
      expect(sse.events.filter((e) => e.id === failure.id).map((e) => e.state)).toEqual(['starting', 'failed']);
      expect(sse.isEnded()).toBe(false); // the all-spawns stream stays open

      await sse.close();
      await expectNoSubscribers(app);
      // The service goes on working without it.
      await request(app.url).delete(`/spawns/${id}`).expect(202);
      await waitForSpawnState(app.url, id, 'exited');
    });

    it('sends keep-alive comments every SSE_KEEPALIVE_MS, on both streams', async () => {
      const app = await startEventsApp(cleanup, { ...ENV, SSE_KEEPALIVE_MS: '200' });
      const { id } = await spawnReady(app.url);
      const all = await openSse(app.url, '/events', { cleanup });
      const one = await openSse(app.url, `/spawns/${id}/events`, { cleanup });
      const started = Date.now();
      const keepAlives = (sse: SseClient) => sse.comments.filter((c) => c === 'keep-alive').length;
      await waitFor(() => keepAlives(all) >= 3 && keepAlives(one) >= 3, 3000, {
        description: () => `3 keep-alives on each stream (got ${keepAlives(all)} and ${keepAlives(one)})`,
      });
      expect(Date.now() - started).toBeGreaterThanOrEqual(550); // not a burst: about one per 200 ms
      expect(all.raw()).toMatch(/^: connected\n\n/);
      expect(all.raw()).toContain(': keep-alive\n\n');
      expect(all.events).toEqual([]); // comments are not events
      expect(one.events.map((e) => e.state)).toEqual(['ready']);
      await all.close();
      await one.close();
      await expectNoSubscribers(app);
    });

    it('uses a 15 s keep-alive by default', async () => {
      const app = await startEventsApp(cleanup, ENV);
      const intervals = jest.spyOn(global, 'setInterval');
      try {
        const sse = await openSse(app.url, '/events', { cleanup });
        await waitFor(() => app.events.subscribers === 1, 2000, { description: 'the subscriber to be registered' });
        expect(intervals.mock.calls.map((call) => call[1])).toContain(15_000);
        await sse.close();
      } finally {
        intervals.mockRestore();
      }
      await expectNoSubscribers(app);
    });
  });

  describe('subscribers that go away', () => {
    it('leave nothing behind: no subscription, no keep-alive timer, no connection', async () => {
      const KEEPALIVE_MS = 777; // distinctive, to recognise the streams' timers
      const app = await startEventsApp(cleanup, { ...ENV, SSE_KEEPALIVE_MS: String(KEEPALIVE_MS) });
      const { id } = await spawnReady(app.url);
      const intervals = jest.spyOn(global, 'setInterval');
      const clears = jest.spyOn(global, 'clearInterval');
      try {
        const clients: SseClient[] = [];
        for (let i = 0; i < 4; i++) {
          clients.push(await openSse(app.url, '/events', { cleanup }));
          clients.push(await openSse(app.url, `/spawns/${id}/events`, { cleanup }));
        }
        await waitFor(() => app.events.subscribers === 8, 2000, {
          description: () => `8 subscribers (got ${app.events.subscribers})`,
        });
        expect(app.observed()).toBe(true);
        await waitFor(() => clients.every((c) => c.comments.includes('connected')), 2000, {
          description: 'every stream to start',
        });

        // Half go away at once, the others after an event went out to them.
        for (const client of clients.slice(0, 4)) await client.close();
        await waitFor(() => app.events.subscribers === 4, 2000, {
          description: () => `4 subscribers left (got ${app.events.subscribers})`,
        });
        await request(app.url).delete(`/spawns/${id}`).expect(202); // a state change: ready -> terminating
        await waitFor(() => clients.slice(4).every((c) => c.events.some((e) => e.state === 'terminating')), 3000, {
          description: 'the remaining subscribers to see the change',
        });
        for (const client of clients.slice(4)) await client.close();

        await expectNoSubscribers(app);
        await waitFor(async () => (await app.connections()) === 0, 2000, {
          description: 'every connection to be closed',
        });
        const timers = intervals.mock.calls.flatMap((call, i) =>
          call[1] === KEEPALIVE_MS ? [intervals.mock.results[i].value] : [],
        );
        expect(timers).toHaveLength(8);
        const cleared = new Set(clears.mock.calls.map((call) => call[0]));
        for (const timer of timers) expect(cleared.has(timer)).toBe(true);
      } finally {
        intervals.mockRestore();
        clears.mockRestore();
      }
      await waitForSpawnState(app.url, id, 'exited');
    });

    it('closing the service ends the open streams', async () => {
      const app = await startEventsApp(cleanup, ENV);
      const { id, pid } = await spawnReady(app.url);
      const all = await openSse(app.url, '/events', { cleanup });
      const one = await openSse(app.url, `/spawns/${id}/events`, { cleanup });
      await one.waitForEvent((e) => e.state === 'ready');
      await app.close();
      await withTimeout(Promise.all([all.ended, one.ended]), 5000, 'the streams to end at shutdown');
      expect(app.events.subscribers).toBe(0);
      expect(app.observed()).toBe(false);
      await waitForProcessGone(pid);
    });
  });

  describe('GET /spawns/:id/logs', () => {
    it("JSON: the server's captured lines as {at, stream, line}, including its ready line; text/plain when asked", async () => {
      const app = await startEventsApp(cleanup, ENV);
      const { id } = await spawnReady(app.url);
      const json = await request(app.url).get(`/spawns/${id}/logs`).expect(200);
      expect(json.headers['content-type']).toMatch(/^application\/json/);
      const lines = json.body as Array<{ at: string; stream: string; line: string }>;
      expect(Array.isArray(lines)).toBe(true);
      for (const entry of lines) {
        expect(Object.keys(entry).sort()).toEqual(['at', 'line', 'stream']);
        expect(['stdout', 'stderr']).toContain(entry.stream);
        expect(new Date(entry.at).toISOString()).toBe(entry.at);
      }
      expect(lines).toContainEqual({ at: expect.any(String), stream: 'stdout', line: `[sc-sim ${id}] ready` });

      const text = await request(app.url).get(`/spawns/${id}/logs`).set('Accept', 'text/plain').expect(200);
      expect(text.headers['content-type']).toMatch(/^text\/plain/);
      expect(text.text).toMatch(new RegExp(`^\\S+ stdout \\[sc-sim ${id}\\] ready$`, 'm'));
      expect(text.text.trimEnd().split('\n')).toHaveLength(lines.length);

      await request(app.url).get(`/spawns/${UNKNOWN_ID}/logs`).expect(404);
    });

    it("text/plain escapes a server's control characters: its output cannot drive a terminal or forge a line", async () => {
      // A server (the simulator behind a wrapper) that first prints escape sequences and a carriage return.
      const wrapper = path.join(makeTempDir(cleanup, 'sc-escapes-'), 'ts3d_sc_server');
      writeFileSync(
        wrapper,
        `#!/bin/sh\nprintf 'evil \\033[2J\\033]0;title\\007 over\\rwritten\\n'\n` +
          // A line separator (a line break in a browser) and a right-to-left override, in UTF-8.
          `printf 'split\\342\\200\\250forged \\342\\200\\256gpj.exe\\n'\nexec ${SIM_EXECUTABLE} "$@"\n`,
      );
      chmodSync(wrapper, 0o755);
      const app = await startEventsApp(cleanup, { ...ENV, SC_EXECUTABLE: wrapper, SC_LICENSE: 'LIC-ESCAPES-1' });
      const { id } = await spawnReady(app.url);
      const text = await request(app.url).get(`/spawns/${id}/logs`).set('Accept', 'text/plain').expect(200);
      expect(text.text).toMatch(/^\S+ stdout evil \\x1b\[2J\\x1b\]0;title\\x07 over\\x0dwritten$/m);
      expect(text.text).toMatch(/^\S+ stdout split\\u2028forged \\u202egpj\.exe$/m);
      // eslint-disable-next-line no-control-regex
      expect(text.text).not.toMatch(/[\x00-\x08\x0b-\x1f\u2028\u202e]/);
    });

    it('keeps the stderr of a server that failed to start', async () => {
      const app = await startEventsApp(cleanup, ENV);
      await request(app.url)
        .post('/api/spawn')
        .send({ params: { model: 'scsim:exit-before-ready:6' } })
        .expect(500);
      const [record] = app.supervisor.list();
      const lines = (await request(app.url).get(`/spawns/${record.id}/logs`).expect(200)).body as Array<{
        stream: string;
        line: string;
      }>;
      expect(lines).toContainEqual(
        expect.objectContaining({ stream: 'stderr', line: expect.stringMatching(/invalid license/) }),
      );
    });
  });
});

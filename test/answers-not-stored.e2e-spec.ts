/**
 * End to end, the built service as a real process: no answer that carries a session's relay token, a ticket or a
 * server's output may be kept by a browser or a cache in front (Cache-Control: no-store), refusals included; the
 * dashboard's own files are still revalidated (no-cache).
 */
import { useCleanup } from './support/processes';
import { FAST_TIMINGS, startServiceProcess } from './support/spawner-app';
import { type SpawnView, waitForProcessGone } from './support/spawner-e2e';

/** This file's ports (31500-31599): the servers' range and the service's own port. */
const SERVICE_PORT = 31599;
const KEY = 'answers-not-stored-key-0123456789';
const ENV = {
  ...FAST_TIMINGS,
  SC_PORT_BASE: '31500',
  SC_PORT_COUNT: '10',
  PUBLIC_ENDPOINT: 'proxy',
  API_KEYS: KEY,
};

describe('answers are not stored (e2e, real processes)', () => {
  const cleanup = useCleanup();

  it('every API answer is no-store, a session and a ticket included; the dashboard page is no-cache', async () => {
    const service = await startServiceProcess(SERVICE_PORT, ENV);
    cleanup.add(() => service.stop(5000), `service process ${service.child.pid}`);
    const call = (path: string, init: RequestInit = {}) =>
      fetch(`${service.url}${path}`, {
        ...init,
        headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', ...init.headers },
      });

    const spawned = await call('/spawn', { method: 'POST', body: '{}' });
    const view = (await spawned.json()) as SpawnView;
    expect(spawned.status).toBe(200);
    cleanup.trackPid(view.pid!, { group: true });
    expect(view.state).toBe('ready'); // answered once ready
    const token = view.proxyEndpoint.split('/ws/')[1];
    expect(token).toBeTruthy();

    const answers: Array<[string, Response]> = [];
    for (const path of ['/spawns', `/spawns/${view.id}`, `/spawns/${view.id}/logs`, '/cluster/spawns', '/api/status'])
      answers.push([`GET ${path}`, await call(path)]);
    answers.push(['POST /tickets', await call('/tickets', { method: 'POST', body: '{}' })]);
    answers.push(['GET /spawns without a key', await fetch(`${service.url}/spawns`)]);
    answers.push(['GET /health', await fetch(`${service.url}/health`)]);
    answers.push(['GET /metrics', await call('/metrics')]);
    const bodies = await Promise.all(answers.map(async ([, answer]) => answer.text()));
    expect(bodies.slice(0, 2).every((body) => body.includes(token))).toBe(true); // the listing and the session
    answers.unshift(['POST /spawn', spawned]);
    expect(answers.map(([what, answer]) => [what, answer.headers.get('cache-control')])).toEqual(
      answers.map(([what]) => [what, 'no-store']),
    );

    const page = await fetch(`${service.url}/`);
    await page.text();
    expect(page.headers.get('cache-control')).toBe('no-cache');

    expect((await call(`/spawns/${view.id}`, { method: 'DELETE' })).headers.get('cache-control')).toBe('no-store');
    await waitForProcessGone(view.pid!);
  });
});

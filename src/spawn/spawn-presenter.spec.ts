import type { Request } from 'express';
import { FakeClock } from '../../test/fakes';
import { LISTENER_SETTINGS, parseAppConfig, pickSection, SCALE_OUT_SETTINGS, SERVERS_SETTINGS } from '../config';
import { SpawnRecord, viewOf } from '../supervisor/rules/spawn-record';
import { SpawnPresenter } from './spawn-presenter';

/** A presenter given the three sections it reads, parsed from these settings. */
function presenterFor(env: Record<string, string>): SpawnPresenter {
  const config = parseAppConfig(env);
  return new SpawnPresenter(
    pickSection(config, LISTENER_SETTINGS),
    pickSection(config, SCALE_OUT_SETTINGS),
    pickSection(config, SERVERS_SETTINGS),
    new FakeClock(),
  );
}

const request = (host: string, headers: Record<string, string> = {}) =>
  ({ headers: { host, ...headers }, protocol: 'http' }) as unknown as Request;
const spawn = viewOf(new SpawnRecord({ id: 'abc-1', wsPort: 55003, rendererType: 'csr', origin: 'api' }, 0));
// The relay path carries the session's random token, never its id (which is on the server's command line).
const TOKEN = spawn.relayToken!;

describe('SpawnPresenter: node and links', () => {
  it('without PUBLIC_BASE_URL: node-relative links, ws absolute on the host the client used; proxy endpoint unchanged', () => {
    const presenter = presenterFor({ NODE_NAME: 'node-a', PUBLIC_ENDPOINT: 'proxy' });
    const view = presenter.toView(spawn, request('lb.example:8080'));
    expect(view.node).toBe('node-a');
    expect(view.links).toEqual({
      self: '/n/node-a/spawns/abc-1',
      events: '/n/node-a/spawns/abc-1/events',
      logs: '/n/node-a/spawns/abc-1/logs',
      ws: `ws://lb.example:8080/n/node-a/ws/${TOKEN}`,
    });
    expect(view.proxyEndpoint).toBe(`ws://lb.example:8080/ws/${TOKEN}`);
    expect(view.endpoint).toBe(view.proxyEndpoint);
  });

  it.each([
    ['https://viewers.example.com', 'https://viewers.example.com', 'wss://viewers.example.com'],
    ['http://127.0.0.1:8080/sc/', 'http://127.0.0.1:8080/sc', 'ws://127.0.0.1:8080/sc'],
  ])('PUBLIC_BASE_URL=%s: every URL through the balancer, under the node prefix', (base, http, ws) => {
    const presenter = presenterFor({ NODE_NAME: 'node-b', PUBLIC_BASE_URL: base, PUBLIC_ENDPOINT: 'proxy' });
    const view = presenter.toView(spawn, request('10.1.2.3:11182', { 'x-forwarded-proto': 'http' }));
    expect(view.links).toEqual({
      self: `${http}/n/node-b/spawns/abc-1`,
      events: `${http}/n/node-b/spawns/abc-1/events`,
      logs: `${http}/n/node-b/spawns/abc-1/logs`,
      ws: `${ws}/n/node-b/ws/${TOKEN}`,
    });
    expect(view.proxyEndpoint).toBe(`${ws}/n/node-b/ws/${TOKEN}`);
    expect(view.endpoint).toBe(view.proxyEndpoint);
  });

  it("PUBLIC_BASE_URL with PUBLIC_ENDPOINT=direct: the advertised endpoint stays the server's own port", () => {
    const presenter = presenterFor({
      NODE_NAME: 'node-b',
      PUBLIC_BASE_URL: 'https://lb',
      PUBLIC_HOSTNAME: 'node-b.internal',
    });
    const endpoints = presenter.endpointsOf(spawn, request('x'));
    expect(endpoints).toEqual({
      direct: 'ws://node-b.internal:55003',
      proxy: `wss://lb/n/node-b/ws/${TOKEN}`,
      advertised: 'ws://node-b.internal:55003',
    });
  });

  it('gives each session its own URL-safe random relay token; an unclaimed warm server gets one only when claimed', () => {
    expect(TOKEN).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const other = new SpawnRecord({ id: 'abc-2', wsPort: 55004, rendererType: 'csr', origin: 'api' }, 0);
    expect(other.relayToken).not.toBe(TOKEN);
    const warm = new SpawnRecord({ id: 'w-1', wsPort: 55005, rendererType: 'csr', origin: 'api', warm: true }, 0);
    const presenter = presenterFor({});
    expect(presenter.endpointsOf(viewOf(warm), request('h:1')).proxy).toBe('ws://h:1/ws/unclaimed');
    warm.claim(5);
    expect(warm.relayToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(presenter.endpointsOf(viewOf(warm), request('h:1')).proxy).toBe(`ws://h:1/ws/${warm.relayToken}`);
  });
});

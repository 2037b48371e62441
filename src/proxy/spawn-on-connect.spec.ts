import { NoCapacityError, RendererDisabledError, SpawnNotReadyError } from '../supervisor/rules/supervisor.errors';
import { RETRY_AFTER_AT_CAPACITY_S } from '../http/http-error';
import type { SpawnView } from '../supervisor/rules/spawn-record';
import { connectRefusal, spawnOnConnectRequest } from './spawn-on-connect';

describe('spawn on connect', () => {
  it.each<[string | undefined, string | null]>([
    ['/?renderingLocation=csr', 'csr'],
    ['/?renderingLocation=ssr', 'ssr'],
    ['/?renderingLocation=SSR', 'ssr'],
    ['/?renderingLocation=gpu', 'csr'],
    ['/?renderingLocation=', 'csr'],
    ['/', 'csr'],
    [undefined, 'csr'],
    ['/viewer?x=1&renderingLocation=ssr', 'ssr'],
    ['/wsx?renderingLocation=ssr', 'ssr'],
    ['/ws/abc', null],
    ['/ws/abc?renderingLocation=ssr', null],
    ['/ws', null],
    ['/ws/', null],
  ])('%s -> %s', (url, renderer) => {
    expect(spawnOnConnectRequest(url)?.rendererType ?? null).toBe(renderer);
  });

  it('answers failures with the HOOPS statuses: 503 + Retry-After, 403, 500 for a failed start, 504', () => {
    expect(connectRefusal(new NoCapacityError('slots', 'all 1 spawn slots are in use'))).toEqual({
      status: 503,
      message: 'all 1 spawn slots are in use',
      headers: { 'Retry-After': String(RETRY_AFTER_AT_CAPACITY_S) },
      reason: 'capacity',
      stormKey: 'slots',
    });
    expect(connectRefusal(new NoCapacityError('ports', 'no free WebSocket port'))).toMatchObject({
      reason: 'ports',
      stormKey: 'ports',
    });
    expect(connectRefusal(new RendererDisabledError('ssr'))).toMatchObject({ status: 403, reason: 'disabled' });
    const spawn = {} as SpawnView;
    expect(connectRefusal(new SpawnNotReadyError(spawn, 'failed', 'exit code 6')).status).toBe(500);
    expect(connectRefusal(new SpawnNotReadyError(spawn, 'timed_out', 'not ready within 1 s')).status).toBe(504);
    expect(connectRefusal(new Error('boom'))).toEqual({
      status: 500,
      message: 'internal error',
      headers: {},
      reason: undefined,
      stormKey: undefined,
    });
  });
});

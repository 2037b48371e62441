import type { Liveliness } from '@app/sc-protocol';
import type { SpawnerMetrics } from '../metrics/spawner-metrics';
import type { SupervisorService } from '../supervisor';
import { LivelinessController } from './liveliness.controller';

/** A POST /spawn waiting for ready: its answer is a chain of promise steps (controller, interceptors, reply). */
function waitingSpawn(order: string[]): { wake: () => void } {
  let wake!: () => void;
  void new Promise<void>((resolve) => (wake = resolve))
    .then(() => undefined)
    .then(() => undefined)
    .then(() => undefined)
    .then(() => order.push('POST /spawn answered'));
  return { wake };
}

describe('LivelinessController', () => {
  function controllerWaking(order: string[]) {
    const spawn = waitingSpawn(order);
    const supervisor = {
      report: (_id: string, value: Liveliness) => (value === 'ready' ? spawn.wake() : undefined),
    } as unknown as SupervisorService;
    const metrics = { livelinessReports: { inc: () => undefined } } as unknown as SpawnerMetrics;
    return new LivelinessController(supervisor, metrics);
  }

  it("answers a server's ready after the POST /spawn it wakes has been answered", async () => {
    const order: string[] = [];
    await controllerWaking(order).report('a', 'ready');
    order.push('204 to the server');
    expect(order).toEqual(['POST /spawn answered', '204 to the server']);
  });

  it('answers other reports at once', async () => {
    const order: string[] = [];
    let answered = false;
    const pending = controllerWaking(order)
      .report('a', 'ping')
      .then(() => (answered = true));
    await Promise.resolve();
    await Promise.resolve();
    expect(answered).toBe(true);
    await pending;
  });
});

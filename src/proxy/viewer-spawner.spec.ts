import type { Logger } from '@nestjs/common';
import { PassThrough } from 'stream';
import type { RejectionReason } from '../metrics/spawner-metrics';
import type { SupervisorService } from '../supervisor';
import { ConnectRefusals } from './connect-refusals';
import { ViewerSpawner } from './viewer-spawner';

describe('ViewerSpawner at shutdown', () => {
  const logger = { log: () => undefined, debug: () => undefined } as unknown as Logger;

  function setup(supervisor: Partial<SupervisorService>) {
    const counted: RejectionReason[] = [];
    const refusals = new ConnectRefusals({ rejected: (reason) => void counted.push(reason) }, logger);
    const spawner = new ViewerSpawner(supervisor as SupervisorService, logger, refusals);
    return { spawner, counted };
  }

  function viewer() {
    const socket = new PassThrough();
    const written: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => written.push(chunk));
    const closed = new Promise((resolve) => socket.once('close', resolve));
    return { socket, answer: async () => (await closed, Buffer.concat(written).toString()) };
  }

  it('refuses a viewer arriving once the supervisor is shutting down, as POST /spawn is then, and counts it', async () => {
    const { spawner, counted } = setup({ isShuttingDown: true });
    const { socket, answer } = viewer();
    expect(await spawner.spawnFor({ rendererType: 'csr' }, undefined, socket, Buffer.alloc(0))).toBeUndefined();
    expect(await answer()).toMatch(/^HTTP\/1\.1 503 [^]*Retry-After: \d+[^]*shutting down/);
    expect(counted).toEqual(['shutting_down']);
  });

  it('refuses every viewer still waiting for its server, counted once each, and stops their spawns', async () => {
    const stopped: AbortSignal[] = [];
    const spawn = (_request: unknown, signal: AbortSignal) =>
      new Promise<never>((_resolve, reject) => {
        stopped.push(signal);
        signal.addEventListener('abort', () => reject(new Error('stopped: the client went away')));
      });
    const { spawner, counted } = setup({ isShuttingDown: false, spawn });
    const viewers = [viewer(), viewer()];
    const waiting = viewers.map((v) => spawner.spawnFor({ rendererType: 'csr' }, undefined, v.socket, Buffer.alloc(0)));
    spawner.refuseAll();
    expect(await Promise.all(waiting)).toEqual([undefined, undefined]);
    for (const v of viewers) expect(await v.answer()).toMatch(/^HTTP\/1\.1 503 /);
    expect(stopped.every((signal) => signal.aborted)).toBe(true);
    expect(counted).toEqual(['shutting_down', 'shutting_down']);
  });

  it('counts a viewer once when the shutdown refuses it just as its server became ready', async () => {
    const stoppedIds: string[] = [];
    const spawn = () => Promise.resolve({ id: 's1' });
    const stop = (id: string) => void stoppedIds.push(id);
    const { spawner, counted } = setup({ isShuttingDown: false, spawn, stop } as unknown as Partial<SupervisorService>);
    const v = viewer();
    const ready = spawner.spawnFor({ rendererType: 'csr' }, undefined, v.socket, Buffer.alloc(0));
    // The server's ready answer is on its way (a resolved promise) when the shutdown refuses every waiting viewer.
    spawner.refuseAll();
    expect(await ready).toBeUndefined();
    expect(await v.answer()).toMatch(/^HTTP\/1\.1 503 /);
    expect(counted).toEqual(['shutting_down']);
    expect(stoppedIds).toEqual(['s1']);
  });
});

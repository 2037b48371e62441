import { ExecutionContext, ForbiddenException } from '@nestjs/common';
import type { Socket } from 'net';
import type { SupervisorService } from '../supervisor';
import type { ConnectionOwner } from './connection-owner.service';
import { LAUNCH_WAIT_MS, ServerReporterGuard } from './server-reporter.guard';

describe('ServerReporterGuard', () => {
  const socket = {} as Socket;
  let headers: Record<string, string> = {};
  beforeEach(() => (headers = {}));
  const response = { setHeader: (name: string, value: string) => void (headers[name] = value) };
  const context = {
    switchToHttp: () => ({ getRequest: () => ({ params: { id: 's1' }, socket }), getResponse: () => response }),
  } as ExecutionContext;

  function guardFor(spawn: object | undefined, owned = true, launching?: Promise<void>) {
    const asked: unknown[][] = [];
    const supervisor = { get: () => spawn, launching: () => launching } as unknown as SupervisorService;
    const owner = {
      openedByGroup: (...args: unknown[]) => (asked.push(args), Promise.resolve(owned)),
    } as unknown as ConnectionOwner;
    return { guard: new ServerReporterGuard(supervisor, owner), asked };
  }

  it("asks whether the connection is the server's with the server's pid and start time", async () => {
    const { guard, asked } = guardFor({ pid: 300, pidStartTime: '4242' });
    await expect(guard.canActivate(context)).resolves.toBe(true);
    expect(asked).toEqual([[socket, 300, '4242']]);
    expect(headers).toEqual({});
  });

  it("refuses with 403 a connection that is not the server's", async () => {
    const { guard } = guardFor({ pid: 300, pidStartTime: '4242' }, false);
    await expect(guard.canActivate(context)).rejects.toThrow(ForbiddenException);
    // Closed after the answer: a refusal is not remembered, so another try needs another connection.
    expect(headers).toEqual({ Connection: 'close' });
  });

  it('refuses with 403, without looking, a report for a server whose start time was never read (it was gone at once)', async () => {
    const { guard, asked } = guardFor({ pid: 300 });
    await expect(guard.canActivate(context)).rejects.toThrow(ForbiddenException);
    expect(asked).toEqual([]);
  });

  it('holds a report that arrives while the process is being started until its pid is known, then checks it', async () => {
    const spawn: { pid?: number; pidStartTime?: string } = {};
    let started!: () => void;
    const launching = new Promise<void>((resolve) => (started = resolve));
    const { guard, asked } = guardFor(spawn, true, launching);
    const answer = guard.canActivate(context);
    await new Promise((resolve) => setImmediate(resolve));
    expect(asked).toEqual([]);
    Object.assign(spawn, { pid: 300, pidStartTime: '4242' });
    started();
    await expect(answer).resolves.toBe(true);
    expect(asked).toEqual([[socket, 300, '4242']]);
  });

  it('refuses with 403 a report whose server gets no pid within LAUNCH_WAIT_MS (a launch that hangs)', async () => {
    jest.useFakeTimers();
    try {
      const { guard, asked } = guardFor({}, true, new Promise<void>(() => undefined));
      const answer = guard.canActivate(context);
      const refused = expect(answer).rejects.toThrow(ForbiddenException);
      await jest.advanceTimersByTimeAsync(LAUNCH_WAIT_MS - 1);
      expect(jest.getTimerCount()).toBe(1);
      await jest.advanceTimersByTimeAsync(1);
      await refused;
      expect(asked).toEqual([]);
      expect(jest.getTimerCount()).toBe(0);
    } finally {
      jest.useRealTimers();
    }
  });

  it('refuses with 403 a report for a live spawn with no pid (its process could not be started)', async () => {
    const { guard, asked } = guardFor({});
    await expect(guard.canActivate(context)).rejects.toThrow(ForbiddenException);
    expect(asked).toEqual([]);
  });

  it('lets through, for the route to answer, a report for an unknown or ended spawn', async () => {
    await expect(guardFor(undefined).guard.canActivate(context)).resolves.toBe(true);
    await expect(guardFor({ pid: 300, pidStartTime: '4242', endedAt: 1 }).guard.canActivate(context)).resolves.toBe(
      true,
    );
  });
});

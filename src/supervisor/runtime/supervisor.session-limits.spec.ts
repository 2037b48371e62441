import { Logger } from '@nestjs/common';
import { flush } from '../../../test/fakes';
import { outcome, setup } from '../../../test/fakes/supervisor-harness';
import type { ViewerCloseRequest } from './spawn-events';
import { QuotaExceededError } from '../rules/supervisor.errors';
import { VIEWER_CLOSE_LEAD_MS } from './spawn-processes';

beforeAll(() => Logger.overrideLogger(false));

const ALICE = { key: 'alice', bucket: 'key:alice' };

describe('SupervisorService: session limits and quotas', () => {
  it('counts a starting session toward its caller quota: two at once with a cap of 1, one is refused', async () => {
    const { supervisor, launcher } = await setup({ SC_KEY_MAX_SESSIONS: 'alice=1' });
    const first = supervisor.spawn({ rendererType: 'csr', owner: ALICE });
    const second = await outcome(supervisor.spawn({ rendererType: 'csr', owner: ALICE }));
    expect(second.error).toBeInstanceOf(QuotaExceededError);
    expect(second.error).toMatchObject({ keyName: 'alice', limit: 1, retryAfterS: 60 });
    await flush();
    expect(launcher.launched).toHaveLength(1);
    supervisor.report(supervisor.list()[0].id, 'ready');
    expect((await first).owner).toEqual(ALICE);
    // Another caller is not affected; the refusal is counted under the key's name.
    const other = supervisor.spawn({ rendererType: 'csr', owner: { bucket: 'addr:10.0.0.1' } });
    await flush();
    supervisor.report(supervisor.list()[1].id, 'ready');
    expect((await other).owner).toEqual({ bucket: 'addr:10.0.0.1' });
    expect([...supervisor.quotaRejections()]).toEqual([['alice', 1]]);
  });

  it("quotaStanding tells a caller's cap and, at it, the refusal a spawn would get, without counting it", async () => {
    const { supervisor } = await setup({ SC_KEY_MAX_SESSIONS: 'alice=1' });
    expect(supervisor.quotaStanding(ALICE)).toEqual({ limit: 1 });
    expect(supervisor.quotaStanding({ bucket: 'addr:10.0.0.1' })).toEqual({ limit: undefined });
    const first = supervisor.spawn({ rendererType: 'csr', owner: ALICE });
    await flush();
    supervisor.report(supervisor.list()[0].id, 'ready');
    await first;
    const standing = supervisor.quotaStanding(ALICE);
    expect(standing.exceeded).toBeInstanceOf(QuotaExceededError);
    expect(standing.exceeded).toMatchObject({ keyName: 'alice', limit: 1, retryAfterS: 60 });
    expect([...supervisor.quotaRejections()]).toEqual([]);
  });

  it('the sweep ends a session at its lifetime limit through the stop path, asking the relay to close its viewer with 4002', async () => {
    const { supervisor, clock, launcher, usage } = await setup({ SC_MAX_SESSION_S: '30', SC_END_WARNING_S: '10' });
    const closes: ViewerCloseRequest[] = [];
    supervisor.viewerCloses$.subscribe((c) => closes.push(c));
    const notices: unknown[] = [];
    supervisor.notices$.subscribe((n) => notices.push(n));
    const spawning = supervisor.spawn({ rendererType: 'csr', owner: ALICE, maxSessionS: 20 });
    await flush();
    const id = supervisor.list()[0].id;
    supervisor.report(id, 'ready');
    const view = await spawning;
    usage.groups.set(view.pid!, { cpuSeconds: 1.5, rssBytes: 50_000_000 });

    clock.advance(10_000);
    supervisor.report(id, 'ready'); // a liveliness report, so the ping timeout stays away
    supervisor.sweep();
    expect(notices).toEqual([
      { id, event: 'expiring', reason: 'lifetime', secondsLeft: 10, at: new Date(clock.now()).toISOString() },
    ]);
    expect(supervisor.get(id)).toMatchObject({ cpuSeconds: 1.5, rssBytes: 50_000_000, maxSessionS: 20 });

    clock.advance(10_000);
    supervisor.report(id, 'ready');
    supervisor.sweep();
    expect(supervisor.get(id)).toMatchObject({ state: 'terminating', endReason: 'lifetime reached: it ran for 20 s' });
    expect(closes).toEqual([{ id, code: 4002, reason: 'lifetime reached' }]);
    expect(launcher.byId(id).signals).toEqual(['SIGTERM']);
  });

  it('with a viewer attached, the server hears SIGTERM only after the relay was told to close that viewer', async () => {
    const { supervisor, clock, launcher } = await setup({ SC_MAX_SESSION_S: '30', SC_END_WARNING_S: '0' });
    const spawning = supervisor.spawn({ rendererType: 'csr', owner: ALICE, maxSessionS: 20 });
    await flush();
    const id = supervisor.list()[0].id;
    supervisor.report(id, 'ready');
    await spawning;
    supervisor.viewerAttached(id);
    const order: string[] = [];
    supervisor.viewerCloses$.subscribe((c) => order.push(`close ${c.code}`));

    clock.advance(20_000);
    supervisor.report(id, 'ready');
    supervisor.sweep();
    order.push(...launcher.byId(id).signals);
    // Told to the relay (its own process) first: the server's own close (1001) must not reach the viewer before it.
    expect(order).toEqual(['close 4002']);
    await new Promise((resolve) => setTimeout(resolve, VIEWER_CLOSE_LEAD_MS + 20));
    expect(launcher.byId(id).signals).toEqual(['SIGTERM']);
  });
});

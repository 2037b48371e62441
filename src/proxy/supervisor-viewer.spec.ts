/** The supervisor's side of the proxy: attach, byte counts, detach, and the sweep rule for a server whose viewer left. */
import { Logger } from '@nestjs/common';
import { parseAppConfig } from '../config';
import { SupervisorService } from '../supervisor/runtime/supervisor.service';
import { liveView, supervisorTestingModule } from '../../test/fakes';

async function setup() {
  // PING_TIMEOUT_S = 3 * 1 + 2 = 5
  const config = parseAppConfig({ SC_PORT_BASE: '41000', SC_LIVELINESS_INTERVAL_S: '1', KILL_GRACE_S: '2' });
  const { moduleRef, clock, launcher } = await supervisorTestingModule(config);
  const supervisor = moduleRef.get(SupervisorService);
  const { id } = await supervisor.launch({ rendererType: 'csr' });
  supervisor.report(id, 'ready');
  return { supervisor, clock, record: liveView(supervisor, id), process: launcher.byId(id) };
}

beforeAll(() => Logger.overrideLogger(false));

describe('SupervisorService and the proxied viewer', () => {
  it('counts the bytes each way into the record while it is live', async () => {
    const { supervisor, record } = await setup();
    supervisor.viewerAttached(record.id);
    supervisor.countViewerBytes(record.id, 'toServer', 10);
    supervisor.countViewerBytes(record.id, 'toViewer', 1000);
    supervisor.countViewerBytes(record.id, 'toServer', 5);
    expect(record).toMatchObject({ state: 'connected', bytesToServer: 15, bytesToViewer: 1000 });
    supervisor.countViewerBytes('no-such-spawn', 'toServer', 1); // ignored
  });

  it('a viewer that left while the server keeps pinging without reporting disconnect: stopped after PING_TIMEOUT_S', async () => {
    const { supervisor, clock, record, process } = await setup();
    supervisor.viewerAttached(record.id);
    clock.advance(1000);
    supervisor.viewerDetached(record.id);
    expect(record.viewerLeftAt).toBe(clock.now());
    for (let t = 0; t < 4; t++) {
      clock.advance(1000);
      supervisor.report(record.id, 'ping');
      supervisor.sweep();
    }
    expect(record.state).toBe('connected');
    clock.advance(999);
    supervisor.sweep();
    expect(process.signals).toEqual([]);
    clock.advance(1);
    supervisor.report(record.id, 'ping');
    supervisor.sweep();
    expect(record.state).toBe('terminating');
    expect(process.signals).toEqual(['SIGTERM']);
    expect(record.endReason).toBe('no disconnect report within 5 s after its viewer left');
  });

  it('a server that reports disconnect in time is not stopped; detaching twice keeps the first time', async () => {
    const { supervisor, clock, record, process } = await setup();
    supervisor.viewerAttached(record.id);
    supervisor.viewerDetached(record.id);
    const leftAt = record.viewerLeftAt;
    clock.advance(100);
    supervisor.viewerDetached(record.id);
    expect(record.viewerLeftAt).toBe(leftAt);
    supervisor.report(record.id, 'disconnect');
    expect(record.state).toBe('disconnected');
    supervisor.sweep();
    expect(process.signals).toEqual([]);
  });
});

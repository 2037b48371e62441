import { Logger } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { BUSY_PORT_RETRY_MS } from '../ports';
import { CAPACITY_SETTINGS, pickSection, SCALE_OUT_SETTINGS, SERVERS_SETTINGS } from '../config';
import { FakeFileSystem } from '../../test/fakes';
import { PORT_BASE, setup } from '../../test/fakes/supervisor-harness';
import { SpawnerHealthIndicator } from './spawner.health';

beforeAll(() => Logger.overrideLogger(false));

async function indicatorOn(portCount: number) {
  const harness = await setup({ SC_PORT_COUNT: String(portCount) });
  const files = new FakeFileSystem();
  files.executables.add(harness.config.scExecutable);
  const indicator = new SpawnerHealthIndicator(
    new HealthIndicatorService(),
    harness.supervisor,
    pickSection(harness.config, SCALE_OUT_SETTINGS),
    pickSection(harness.config, CAPACITY_SETTINGS),
    pickSection(harness.config, SERVERS_SETTINGS),
    files,
  );
  return { ...harness, indicator };
}

describe('SpawnerHealthIndicator: readiness and ports held by another program', () => {
  it('a range taken before any spawn: not ready, naming the cause; ready again once let go', async () => {
    const { indicator, probe, clock } = await indicatorOn(3);
    for (let p = PORT_BASE; p < PORT_BASE + 3; p++) probe.busy.add(p);
    const down = await indicator.readiness(true);
    expect(down.spawner).toMatchObject({ status: 'down', freePorts: 0, busyPorts: 3 });
    expect(down.spawner.reason).toMatch(
      new RegExp(`^no free WebSocket port in ${PORT_BASE}-${PORT_BASE + 2}: 3 held by another program \\(ss -ltnp`),
    );
    expect(indicator.liveness(true).spawner).toMatchObject({ status: 'up', freePorts: 0, busyPorts: 3 });

    probe.busy.clear();
    clock.advance(BUSY_PORT_RETRY_MS);
    // This check starts the probes (it answers from what was known then); the next one has their answer.
    await indicator.readiness(true);
    await new Promise((resolve) => setImmediate(resolve));
    expect((await indicator.readiness(true)).spawner).toMatchObject({ status: 'up', freePorts: 3, busyPorts: 0 });
  });

  it('a check does not wait for the probes once they have run (a spawn storm would slow every bind)', async () => {
    const { indicator, probe, clock } = await indicatorOn(3);
    await indicator.readiness(true); // the first pass, waited for
    probe.delay = () => 40;
    clock.advance(BUSY_PORT_RETRY_MS);
    const first = await Promise.race([
      indicator.readiness(true).then(() => 'answered'),
      new Promise((resolve) => setTimeout(() => resolve('waited for the probes'), 20)),
    ]);
    expect(first).toBe('answered');
    expect(probe.probed.length).toBe(6); // the second pass started
    await new Promise((resolve) => setTimeout(resolve, 60)); // and ends within the test
  });

  it('a range found taken by a spawn stays not ready after the retry window while it is still taken', async () => {
    const { indicator, probe, clock, supervisor } = await indicatorOn(3);
    for (let p = PORT_BASE; p < PORT_BASE + 3; p++) probe.busy.add(p);
    await expect(supervisor.launch({ rendererType: 'csr' })).rejects.toMatchObject({ reason: 'ports' });
    clock.advance(BUSY_PORT_RETRY_MS + 1);
    expect((await indicator.readiness(true)).spawner).toMatchObject({ status: 'down', freePorts: 0, busyPorts: 3 });
  });

  it('a range only partly taken is ready, with the taken ports counted apart', async () => {
    const { indicator, probe } = await indicatorOn(3);
    probe.busy.add(PORT_BASE + 1);
    expect((await indicator.readiness(true)).spawner).toMatchObject({ status: 'up', freePorts: 2, busyPorts: 1 });
  });
});

/**
 * End to end with the built service as a real process whose wall clock is stepped while it runs (libfaketime fakes
 * CLOCK_REALTIME only; the monotonic clock runs on), as NTP, an operator's `date -s` or a VM's resume step a host's:
 * no timeout may move with it. Read from the wall clock, a step back of an hour left a hung server unnoticed for that
 * hour (its silence came out negative), and a step forward was taken for the service having stalled for an hour.
 */
import { writeFileSync } from 'fs';
import { join } from 'path';
import request from 'supertest';
import { freePort } from './support/ports';
import { isProcessAlive, useCleanup } from './support/processes';
import { FAST_TIMINGS, type ServiceProcess, startServiceProcess } from './support/spawner-app';
import { getSpawn, postSpawn, type SpawnView, waitForProcessGone, waitForSpawnState } from './support/spawner-e2e';
import { requireSystemBinary } from './support/system-packages';
import { makeTempDir } from './support/temp';
import { sleep, waitFor } from './support/wait';

// Longer than the tests' usual second: a silence must still be running when the step shows (within 2 s).
const PING_TIMEOUT_S = 4;
const HOUR_S = 3600;
// ld.so expands $LIB to the machine's library folder (x86_64-linux-gnu, aarch64-linux-gnu...).
const FAKETIME_LIBRARY = '/usr/$LIB/faketime/libfaketimeMT.so.1';

describe('a step of the wall clock (e2e, real process under libfaketime)', () => {
  const cleanup = useCleanup();

  /** The service, with its wall clock offset by whatever `step()` last wrote. */
  async function startSteppable(
    portBase: number,
  ): Promise<{ service: ServiceProcess; step: (seconds: number) => Promise<number> }> {
    requireSystemBinary('/usr/bin/faketime', 'faketime');
    const offsetFile = join(makeTempDir(cleanup), 'offset');
    writeFileSync(offsetFile, '+0\n');
    const service = await startServiceProcess(await freePort(), {
      ...FAST_TIMINGS,
      PING_TIMEOUT_S: String(PING_TIMEOUT_S),
      SC_PORT_BASE: String(portBase),
      SC_MAX_SPAWNS: '1',
      LD_PRELOAD: FAKETIME_LIBRARY,
      FAKETIME_TIMESTAMP_FILE: offsetFile,
      FAKETIME_CACHE_DURATION: '1',
      DONT_FAKE_MONOTONIC: '1',
    });
    cleanup.add(() => service.stop(2000), `service process ${service.child.pid}`);
    /** Sets the service's wall clock `seconds` off ours; resolves with its time once the step shows there. */
    const step = (seconds: number) => {
      writeFileSync(offsetFile, `${seconds >= 0 ? '+' : ''}${seconds}\n`);
      // The service's HTTP Date header is its wall clock: the step has taken once it shows there.
      return waitFor(
        async () => {
          const { headers } = await request(service.url).get('/health');
          const theirs = Date.parse(String(headers.date));
          return Math.abs((theirs - Date.now()) / 1000 - seconds) < 5 && theirs;
        },
        5000,
        { description: `the service's wall clock to be ${seconds} s off` },
      );
    };
    return { service, step };
  }

  async function readySpawn(service: ServiceProcess): Promise<SpawnView> {
    const response = await postSpawn(service.url, {});
    expect(response.status).toBe(200);
    const spawn = response.body as SpawnView;
    cleanup.trackPid(spawn.pid!, { group: true });
    return spawn;
  }

  /** The API shows its times on the service's wall clock as it is set now. */
  async function expectTimesOnWallClock(service: ServiceProcess, id: string, wall: number): Promise<void> {
    const { lastReportAt, startedAt } = await getSpawn(service.url, id);
    expect(Math.abs(Date.parse(lastReportAt!) - wall)).toBeLessThan(PING_TIMEOUT_S * 1000 + 2000);
    expect(Date.parse(startedAt)).toBeLessThanOrEqual(Date.parse(lastReportAt!));
  }

  it('still stops a hung server after the clock stepped back an hour', async () => {
    const { service, step } = await startSteppable(31100);
    const spawn = await readySpawn(service);

    // Silent first, then the step: its last report was read before the clock went back.
    process.kill(spawn.pid!, 'SIGSTOP');
    await sleep(Number(FAST_TIMINGS.SC_LIVELINESS_INTERVAL_S) * 2000);
    const wall = await step(-HOUR_S);
    await expectTimesOnWallClock(service, spawn.id, wall);

    const stopped = await waitForSpawnState(service.url, spawn.id, ['unresponsive', 'terminating', 'exited'], 15_000);
    expect(stopped.endReason).toContain(`no liveliness report for ${PING_TIMEOUT_S} s`);
    await waitForProcessGone(spawn.pid!, 10_000);
  });

  it('takes a step forward of an hour for no stall of its own, and keeps every healthy server', async () => {
    const { service, step } = await startSteppable(31110);
    const spawn = await readySpawn(service);

    const wall = await step(HOUR_S);
    // Many sweeps (every 100 ms) after the step.
    await sleep(3000);
    await expectTimesOnWallClock(service, spawn.id, wall + 3000);

    expect((await getSpawn(service.url, spawn.id)).state).toBe('ready');
    expect(isProcessAlive(spawn.pid!)).toBe(true);
    expect(service.output.join('')).not.toContain('the service did not run for');
  });
});

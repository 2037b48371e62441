/**
 * End to end: another local user (nobody) listens on every port of the WebSocket range. The service (a real process)
 * refuses spawns and readiness names the cause; once the other program lets go, it is ready within the retry window
 * and a real simulator starts.
 */
import { spawn } from 'child_process';
import request from 'supertest';
import { BUSY_PORT_RETRY_MS } from '../src/ports';
import { freePort } from './support/ports';
import { useCleanup, type Cleanup } from './support/processes';
import { FAST_TIMINGS, startServiceProcess } from './support/spawner-app';
import { postSpawn, waitForProcessGone } from './support/spawner-e2e';
import { waitFor } from './support/wait';

const PORT_COUNT = 3;
const isRoot = process.getuid?.() === 0;

/**
 * A process of another user (nobody, when root; perl, which every user may run) listening on `host` (on `::`, both
 * families) on every port of [base, base + PORT_COUNT); resolves once it does.
 */
async function squat(host: string, base: number, cleanup: Cleanup) {
  const script =
    '$| = 1; use IO::Socket::IP; my @held = map { IO::Socket::IP->new(LocalHost => $ARGV[0], LocalPort => $_, ' +
    'Listen => 5, ReuseAddr => 1, V6Only => 0) or die "$_: $!\\n" } $ARGV[1] .. $ARGV[2]; print "held\\n"; sleep 600';
  const argv = ['perl', '-e', script, host, String(base), String(base + PORT_COUNT - 1)];
  const child = isRoot
    ? spawn('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--', ...argv], {
        stdio: ['ignore', 'pipe', 'inherit'],
      })
    : spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
  cleanup.trackChild(child);
  await new Promise((resolve, reject) => {
    child.stdout.once('data', resolve);
    child.once('exit', (code) => reject(new Error(`the squatter exited (${code}) before holding its ports`)));
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return {
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

describe('ports of the range held by another user (e2e)', () => {
  const cleanup = useCleanup();

  const variants: Array<[host: string, base: number]> = [
    ['::', 31200],
    ['0.0.0.0', 31210],
  ];
  it.each(variants)(
    'every port held on [%s]: spawns 503 and not ready, naming the cause; ready again once let go',
    async (host, base) => {
      const squatter = await squat(host, base, cleanup);
      const service = await startServiceProcess(await freePort(), {
        ...FAST_TIMINGS,
        SC_PORT_BASE: String(base),
        SC_PORT_COUNT: String(PORT_COUNT),
        SC_MAX_SPAWNS: String(PORT_COUNT),
      });
      cleanup.add(() => service.stop(), 'the service');
      const range = `${base}-${base + PORT_COUNT - 1}`;
      const cause = `no free WebSocket port in ${range}: ${PORT_COUNT} held by another program`;

      // Before any spawn: readiness probes the range itself.
      const before = await request(service.url).get('/health/ready');
      expect(before.status).toBe(503);
      expect(before.body.error.spawner).toMatchObject({ status: 'down', freePorts: 0, busyPorts: PORT_COUNT });
      expect(before.body.error.spawner.reason).toContain(cause);
      expect(before.body.error.spawner.reason).toContain(
        `ss -ltnp 'sport >= :${base} and sport <= :${base + PORT_COUNT - 1}'`,
      );

      const refused = await postSpawn(service.url, {});
      expect(refused.status).toBe(503);
      expect(refused.body.message).toContain(cause);

      // Past the retry window, the ports still held are still not free.
      await new Promise((resolve) => setTimeout(resolve, BUSY_PORT_RETRY_MS + 500));
      const later = await request(service.url).get('/health/ready');
      expect(later.status).toBe(503);
      expect(later.body.error.spawner.reason).toContain(cause);
      const live = await request(service.url).get('/health').expect(200);
      expect(live.body.details.spawner).toMatchObject({ freePorts: 0, busyPorts: PORT_COUNT });

      await squatter.stop();
      await waitFor(
        async () => (await request(service.url).get('/health/ready')).status === 200 || undefined,
        BUSY_PORT_RETRY_MS + 2000,
        { description: 'readiness once the ports are let go', intervalMs: 200 },
      );
      const ready = await request(service.url).get('/health/ready').expect(200);
      expect(ready.body.info.spawner).toMatchObject({ freePorts: PORT_COUNT, busyPorts: 0 });

      const spawned = await postSpawn(service.url, {});
      expect(spawned.status).toBe(200);
      cleanup.trackPid(spawned.body.pid);
      await request(service.url).delete(`/spawns/${spawned.body.id}`).expect(202);
      await waitForProcessGone(spawned.body.pid);
      await service.stop();
    },
    45_000,
  );
});

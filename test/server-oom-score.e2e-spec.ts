/**
 * End to end with the built service as a real process: the kernel's OOM killer must take a server before the
 * service. It picks the largest process, and a server that spread its memory over children each smaller than the
 * service had it kill the service (every session), the server running on. Servers and what they start are at
 * oom_score_adj 1000; the service keeps its own.
 */
import { readFileSync } from 'fs';
import { useCleanup } from './support/processes';
import { FAST_TIMINGS, startServiceProcess } from './support/spawner-app';
import { grandchildPidsIn, postSpawn, type SpawnView } from './support/spawner-e2e';
import { waitFor } from './support/wait';

/** This file's ports (31900-31949): the service on 31949, its servers from 31900. */
const SERVICE_PORT = 31949;
const ENV = { ...FAST_TIMINGS, SC_PORT_BASE: '31900', SC_PORT_COUNT: '4' };

function oomScoreAdj(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/oom_score_adj`, 'utf8'));
}

describe('the OOM killer takes a server before the service (e2e, real process)', () => {
  const cleanup = useCleanup();

  it('a server and the process it forks are at oom_score_adj 1000, the service at its own', async () => {
    const service = await startServiceProcess(SERVICE_PORT, ENV);
    cleanup.add(() => service.stop(2000), `service process ${service.child.pid}`);
    const ownScore = oomScoreAdj(service.child.pid!);

    const response = await postSpawn(service.url, { model: 'scsim:spawn-grandchild' });
    expect(response.status).toBe(200);
    const server = (response.body as SpawnView).pid!;
    cleanup.trackPid(server, { group: true });
    const grandchild = await waitFor(() => grandchildPidsIn(service.output.join('').split('\n'))[0], 5000, {
      description: 'the grandchild pid',
    });

    expect([oomScoreAdj(server), oomScoreAdj(grandchild)]).toEqual([1000, 1000]);
    expect(oomScoreAdj(service.child.pid!)).toBe(ownScore);
    expect(ownScore).toBeLessThan(1000);
    expect(await service.stop()).toEqual({ code: 0, signal: null });
  });
});

/**
 * Spawn latency, side by side in one run (samples interleaved, the order rotated each round):
 *  - cold POST /spawn on the service (no pool) vs the bare simulator (spawn() to its ready report) and vs the
 *    minimal tutorial-style spawner (minimal-spawner.ts) doing the same through HTTP;
 *  - warm POST /spawn and warm POST /api/spawn (a service with SC_WARM_POOL_CSR=4) vs the cold row;
 *  - 32 POST /spawn at once vs 32 bare simulators at once (time until the last is ready).
 * Before every sample the warm service's pool is full again and the previous servers have exited, so no
 * measurement shares the machine with a server starting or stopping in the background.
 */
import { performance } from 'perf_hooks';
import { isProcessAlive, withCleanup, type Cleanup } from '../support/processes';
import { waitFor } from '../support/wait';
import {
  startBareSimulator,
  startMinimalSpawner,
  startReadyReceiver,
  startService,
  type BenchService,
  type ReadyReceiver,
} from './processes';
import { type BenchRow, httpRequest, median, percentile, ratio, round } from './stats';
import { serverStartLikeService } from './fair-start';

const SAMPLES = Number(process.env.BENCH_SPAWN_SAMPLES ?? 80);
const WARMUP = 3;
const BURST = 32;
const BURST_ROUNDS = Number(process.env.BENCH_BURST_ROUNDS ?? 3);
const POOL = 4;
/** Port ranges inside the benchmarks' 24000-24999. */
const COLD_PORTS = 24000;
const WARM_PORTS = 24100;
const BARE_PORTS = 24200;
const MINIMAL_PORTS = 24300;

type Kind = 'cold' | 'bare' | 'minimal' | 'warm' | 'warmHoops';

export async function run(): Promise<BenchRow[]> {
  return withCleanup(async (cleanup) => {
    const cold = await startService(cleanup, {
      SC_PORT_BASE: String(COLD_PORTS),
      SC_PORT_COUNT: '80',
      SC_MAX_SPAWNS: '40',
    });
    const warm = await startService(cleanup, {
      SC_PORT_BASE: String(WARM_PORTS),
      SC_PORT_COUNT: '16',
      SC_MAX_SPAWNS: '8',
      SC_WARM_POOL_CSR: String(POOL),
    });
    const fair = serverStartLikeService(cleanup);
    const minimal = await startMinimalSpawner(cleanup, MINIMAL_PORTS);
    const receiver = await startReadyReceiver(cleanup);
    const samples: Record<Kind, number[]> = { cold: [], bare: [], minimal: [], warm: [], warmHoops: [] };
    const measure: Record<Kind, (i: number) => Promise<number>> = {
      cold: () => timeServiceSpawn(cold),
      bare: (i) => timeBare(receiver, BARE_PORTS + (i % 100), cleanup),
      minimal: () => timeMinimalSpawn(minimal),
      warm: () => timeWarmClaim(warm, '/spawn', '{}'),
      warmHoops: () => timeWarmClaim(warm, '/api/spawn', '{"class":"csr_session","params":{}}'),
    };
    const kinds = Object.keys(measure) as Kind[];
    for (let i = 0; i < WARMUP + SAMPLES; i++) {
      const order = kinds.map((_, k) => kinds[(k + i) % kinds.length]);
      for (const kind of order) {
        await poolFull(warm);
        const ms = await measure[kind](i);
        if (i >= WARMUP) samples[kind].push(ms);
      }
    }

    const burst = { service: [] as number[], bare: [] as number[] };
    for (let r = 0; r < BURST_ROUNDS; r++) {
      const order: Array<keyof typeof burst> = r % 2 === 0 ? ['service', 'bare'] : ['bare', 'service'];
      for (const which of order) {
        await poolFull(warm);
        burst[which].push(
          which === 'service' ? await timeServiceBurst(cold) : await timeBareBurst(receiver, r, cleanup),
        );
      }
    }

    const m = (kind: Kind) => median(samples[kind]);
    const p = (kind: Kind) => percentile(samples[kind], 99);
    const coldVs = (anchor: Kind, label: string, limit: number, targetText: string): BenchRow => ({
      row: 'cold POST /spawn',
      unit: 'ms',
      n: SAMPLES,
      median: round(m('cold')),
      p99: round(p('cold')),
      anchor: label,
      anchorMedian: round(m(anchor)),
      anchorP99: round(p(anchor)),
      vsAnchor: ratio(m('cold'), m(anchor)),
      target: targetText,
      pass: m('cold') / m(anchor) <= limit,
      note: fair.description,
    });
    const warmRow = (kind: Kind, label: string): BenchRow => ({
      row: label,
      unit: 'ms',
      n: SAMPLES,
      median: round(m(kind), 2),
      p99: round(p(kind), 2),
      anchor: 'cold POST /spawn',
      anchorMedian: round(m('cold')),
      anchorP99: round(p('cold')),
      vsAnchor: ratio(m(kind), m('cold')),
      target: '<= 5 ms and <= 0.1x',
      pass: m(kind) <= 5 && m(kind) / m('cold') <= 0.1,
    });
    return [
      coldVs('bare', 'bare simulator, launched to ready', 1.05, '<= 1.05x'),
      coldVs('minimal', 'minimal spawner (test/bench)', 1.05, '<= 1.05x'),
      warmRow('warm', 'warm POST /spawn'),
      warmRow('warmHoops', 'warm POST /api/spawn'),
      {
        row: `${BURST} POST /spawn at once (last ready)`,
        unit: 'ms',
        n: BURST_ROUNDS,
        median: round(median(burst.service)),
        p99: round(percentile(burst.service, 99)),
        anchor: `${BURST} bare simulators at once`,
        anchorMedian: round(median(burst.bare)),
        anchorP99: round(percentile(burst.bare, 99)),
        vsAnchor: ratio(median(burst.service), median(burst.bare)),
        target: '<= 1.05x',
        pass: median(burst.service) / median(burst.bare) <= 1.05,
        note: fair.description,
      },
    ];
  });
}

/** The warm service's pool is full and nothing of it is starting or stopping. */
async function poolFull(warm: BenchService): Promise<void> {
  await waitFor(
    async () => {
      const status = JSON.parse((await httpRequest(warm.url, 'GET', '/api/status')).body) as {
        warm: { csr: number };
        spawnsByState: Record<string, number>;
      };
      const busy = ['starting', 'terminating', 'disconnected'].some((s) => status.spawnsByState[s] > 0);
      return status.warm.csr === POOL && !busy;
    },
    15_000,
    { intervalMs: 5, description: 'the warm pool to be full' },
  );
}

async function stopAndWait(
  service: BenchService,
  id: string,
  pid: number,
  headers: Record<string, string> = {},
): Promise<void> {
  const deleted = await httpRequest(service.url, 'DELETE', `/spawns/${id}`, undefined, headers);
  if (deleted.status !== 202) throw new Error(`DELETE /spawns/${id} answered ${deleted.status}`);
  await waitFor(() => !isProcessAlive(pid), 10_000, { intervalMs: 5, description: `spawn ${id} (pid ${pid}) to exit` });
  await waitFor(
    async () =>
      ['exited', 'failed'].includes(
        (
          JSON.parse((await httpRequest(service.url, 'GET', `/spawns/${id}`, undefined, headers)).body) as {
            state: string;
          }
        ).state,
      ),
    5000,
    { intervalMs: 5, description: `spawn ${id} to be recorded as ended` },
  );
}

/** One cold POST /spawn, timed to its answer; then DELETE and wait until the process is gone. */
export async function timeServiceSpawn(service: BenchService, headers: Record<string, string> = {}): Promise<number> {
  const started = performance.now();
  const response = await httpRequest(service.url, 'POST', '/spawn', '{}', headers);
  const elapsed = performance.now() - started;
  if (response.status !== 200) throw new Error(`POST /spawn answered ${response.status}: ${response.body}`);
  const { id, pid } = JSON.parse(response.body) as { id: string; pid: number };
  await stopAndWait(service, id, pid, headers);
  return elapsed;
}

async function timeWarmClaim(service: BenchService, path: string, body: string): Promise<number> {
  const started = performance.now();
  const response = await httpRequest(service.url, 'POST', path, body);
  const elapsed = performance.now() - started;
  if (response.status !== 200) throw new Error(`POST ${path} answered ${response.status}: ${response.body}`);
  const answer = JSON.parse(response.body) as { id?: string; serviceId?: string; warm?: boolean };
  if (answer.warm !== true) throw new Error(`POST ${path} was not served warm: ${response.body}`);
  const id = answer.id ?? answer.serviceId!;
  const view = JSON.parse((await httpRequest(service.url, 'GET', `/spawns/${id}`)).body) as { pid: number };
  await stopAndWait(service, id, view.pid);
  return elapsed;
}

async function timeMinimalSpawn(minimal: BenchService): Promise<number> {
  const started = performance.now();
  const response = await httpRequest(minimal.url, 'POST', '/spawn', '{}');
  const elapsed = performance.now() - started;
  if (response.status !== 200) throw new Error(`minimal spawner answered ${response.status}`);
  const { id, pid } = JSON.parse(response.body) as { id: string; pid: number };
  await httpRequest(minimal.url, 'DELETE', `/spawns/${id}`);
  await waitFor(() => !isProcessAlive(pid), 10_000, { intervalMs: 5, description: `minimal spawn ${pid} to exit` });
  return elapsed;
}

async function timeBare(receiver: ReadyReceiver, port: number, cleanup: Cleanup): Promise<number> {
  const sim = await startBareSimulator(receiver, port, cleanup);
  await sim.stop();
  return sim.startupMs;
}

async function timeServiceBurst(service: BenchService): Promise<number> {
  const started = performance.now();
  const responses = await Promise.all(
    Array.from({ length: BURST }, () => httpRequest(service.url, 'POST', '/spawn', '{}')),
  );
  const elapsed = performance.now() - started;
  const bad = responses.find((r) => r.status !== 200);
  if (bad) throw new Error(`a POST /spawn of the burst answered ${bad.status}: ${bad.body}`);
  await Promise.all(
    responses
      .map((r) => JSON.parse(r.body) as { id: string; pid: number })
      .map((s) => stopAndWait(service, s.id, s.pid)),
  );
  return elapsed;
}

async function timeBareBurst(receiver: ReadyReceiver, round: number, cleanup: Cleanup): Promise<number> {
  const base = BARE_PORTS + 100 + (round % 2) * 40;
  const started = performance.now();
  const sims = await Promise.all(
    Array.from({ length: BURST }, (_, i) => startBareSimulator(receiver, base + i, cleanup)),
  );
  const elapsed = performance.now() - started;
  await Promise.all(sims.map((sim) => sim.stop()));
  return elapsed;
}

/**
 * The service's own cost per spawn:
 *  - RSS per live spawn: the built service as a real process (real child processes, pipes, records, journal),
 *    its VmRSS (after the same 200 spawns were started and stopped once) before and after 200 live spawns of a
 *    tiny stand-in server (a shell script that reports ready with curl and sleeps; a simulator would cost 200 Node
 *    processes), divided by 200, or the JS heap those spawns keep where that is more. Three such cycles, each
 *    read after a full garbage collection (the bench loads gc-on-signal.js into the service): without it one
 *    reading moved by a few MiB with the heap's collections, and the row read 3 to 50 KiB from cycle to cycle;
 *  - sweep time with 1,000 live spawns: SupervisorService.sweep() in this process on the fakes of test/fakes
 *    (supervisorTestingModule), timed 300 times.
 */
import { readFileSync, chmodSync, writeFileSync } from 'fs';
import * as path from 'path';
import { performance } from 'perf_hooks';
import { parseAppConfig } from '../../src/config/app-config';
import { SupervisorService } from '../../src/supervisor/runtime/supervisor.service';
import { supervisorTestingModule } from '../fakes';
import { withCleanup } from '../support/processes';
import { makeTempDir } from '../support/temp';
import { sleep, waitFor } from '../support/wait';
import { startService } from './processes';
import { type BenchRow, httpRequest, median, percentile, round } from './stats';

const LIVE = 200;
const CYCLES = 3;
const RSS_SAMPLES = 5;
const SWEEP_SPAWNS = 1000;
const SWEEPS = 300;
/** 250 ports of this bench's own range (the e2e file warm-pool uses the same range; both run under the lock). */
const PORTS = 26100;

function vmRssKb(pid: number): number {
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]);
}

/** VmRSS after a full garbage collection (gc-on-signal.js): the median of RSS_SAMPLES readings, 200 ms apart. */
async function settledRssKb(pid: number): Promise<number> {
  const readings: number[] = [];
  for (let i = 0; i < RSS_SAMPLES; i++) {
    process.kill(pid, 'SIGWINCH');
    await sleep(200);
    readings.push(vmRssKb(pid));
  }
  return median(readings);
}

/** The service's JS heap in use and memory outside it held by JS objects (its /api/status), after the collections. */
async function heapUsedKb(url: string): Promise<number> {
  const { memory } = JSON.parse((await httpRequest(url, 'GET', '/api/status')).body) as {
    memory: { heapUsed: number; external: number };
  };
  return (memory.heapUsed + memory.external) / 1024;
}

/** Whether the process catches SIGWINCH (SigCgt in /proc/<pid>/status, bit 27): gc-on-signal.js is loaded. */
function catchesSigwinch(pid: number): boolean {
  const match = /^SigCgt:\s+([0-9a-f]+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match !== null && (BigInt(`0x${match[1]}`) & (1n << 27n)) !== 0n;
}

interface Footprint {
  perSpawn: number[];
  heapPerSpawn: number[];
  before: number;
  after: number;
}

async function rssPerSpawnKiB(): Promise<Footprint> {
  return withCleanup(async (cleanup) => {
    const dir = makeTempDir(cleanup, 'sc-bench-footprint-');
    const script = path.join(dir, 'tiny-server');
    writeFileSync(
      script,
      `#!/bin/sh
while [ $# -gt 0 ]; do case "$1" in --id) id=$2; shift;; --liveliness-endpoint) ep=$2; shift;; esac; shift; done
curl -s -X POST "$ep/$id?liveliness=ready" >/dev/null
exec sleep 600
`,
    );
    chmodSync(script, 0o755);
    const service = await startService(cleanup, {
      SC_EXECUTABLE: script,
      SC_LICENSE: 'bench',
      SC_PORT_BASE: String(PORTS),
      SC_PORT_COUNT: '250',
      SC_MAX_SPAWNS: '240',
      SC_LIVELINESS_INTERVAL_S: '120',
      NODE_OPTIONS: `--require "${path.join(__dirname, 'gc-on-signal.js')}"`,
    });
    const spawnBatch = async (count: number) => {
      const answers = await Promise.all(
        Array.from({ length: count }, () => httpRequest(service.url, 'POST', '/spawn', '{}')),
      );
      const bad = answers.find((a) => a.status !== 200);
      if (bad) throw new Error(`POST /spawn answered ${bad.status}: ${bad.body}`);
      return answers.map((a) => JSON.parse(a.body) as { id: string });
    };
    // Steady state first: the same 200 spawns started and stopped once (JIT, lazily loaded code, a heap sized for
    // that much garbage, a full history of ended spawns), so the delta is what live spawns keep, not first-use growth.
    for (let i = 0; i < LIVE / 20; i++) {
      for (const { id } of await spawnBatch(20)) await httpRequest(service.url, 'DELETE', `/spawns/${id}`);
    }
    const pid = service.child.pid!;
    if (!catchesSigwinch(pid))
      throw new Error('the service did not load gc-on-signal.js: no collection before reading');
    const perSpawn: number[] = [];
    const heapPerSpawn: number[] = [];
    let before = 0;
    let after = 0;
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      await sleep(1000);
      before = await settledRssKb(pid);
      const heapBefore = await heapUsedKb(service.url);
      const live: string[] = [];
      for (let i = 0; i < LIVE / 20; i++) live.push(...(await spawnBatch(20)).map(({ id }) => id));
      await sleep(1000);
      after = await settledRssKb(pid);
      heapPerSpawn.push(((await heapUsedKb(service.url)) - heapBefore) / LIVE);
      perSpawn.push((after - before) / LIVE);
      for (const id of live) await httpRequest(service.url, 'DELETE', `/spawns/${id}`);
      await waitFor(
        async () => {
          const status = JSON.parse((await httpRequest(service.url, 'GET', '/api/status')).body) as {
            activeSpawns: number;
          };
          return status.activeSpawns === 0;
        },
        30_000,
        { intervalMs: 100, description: 'the stand-in servers to be gone' },
      );
    }
    return { perSpawn, heapPerSpawn, before, after };
  });
}

async function sweepTimes(): Promise<number[]> {
  const config = parseAppConfig({
    SC_MAX_SPAWNS: String(SWEEP_SPAWNS),
    SC_PORT_BASE: '40000',
    SC_PORT_COUNT: String(SWEEP_SPAWNS),
  });
  const { moduleRef } = await supervisorTestingModule(config);
  try {
    const supervisor = moduleRef.get(SupervisorService);
    for (let i = 0; i < SWEEP_SPAWNS; i++) {
      const { id } = await supervisor.launch({ rendererType: 'csr' });
      supervisor.report(id, 'ready');
    }
    const times: number[] = [];
    for (let i = 0; i < SWEEPS + 20; i++) {
      const started = performance.now();
      supervisor.sweep();
      if (i >= 20) times.push(performance.now() - started);
    }
    if (supervisor.capacity().activeSpawns !== SWEEP_SPAWNS) throw new Error('the sweep stopped spawns it should not');
    return times;
  } finally {
    await moduleRef.close();
  }
}

export async function run(): Promise<BenchRow[]> {
  const rss = await rssPerSpawnKiB();
  // 200 spawns' objects may fit in heap pages already committed (VmRSS then barely moves); the heap they keep is
  // what many more would add. Each cycle counts the larger of the two.
  const kept = rss.perSpawn.map((rssKiB, i) => Math.max(rssKiB, rss.heapPerSpawn[i]));
  const sweeps = await sweepTimes();
  return [
    {
      row: 'service RSS per live spawn',
      unit: 'KiB',
      n: LIVE,
      median: round(median(kept)),
      p99: '',
      anchor: `service VmRSS ${Math.round(rss.before / 1024)} -> ${Math.round(rss.after / 1024)} MiB (last cycle)`,
      target: '<= 20 KiB',
      pass: median(kept) <= 20,
      note:
        `real service, 200 live stand-in servers, after a full GC; per cycle the larger of VmRSS growth ` +
        `(${rss.perSpawn.map((k) => round(k)).join(', ')} KiB) and JS heap and external memory kept (${rss.heapPerSpawn.map((k) => round(k)).join(', ')} KiB)`,
    },
    {
      row: `sweep with ${SWEEP_SPAWNS} live spawns`,
      unit: 'ms',
      n: SWEEPS,
      median: round(median(sweeps), 3),
      p99: round(percentile(sweeps, 99), 3),
      anchor: '',
      target: '<= 2 ms',
      pass: median(sweeps) <= 2,
      note: 'in process, test/fakes',
    },
  ];
}

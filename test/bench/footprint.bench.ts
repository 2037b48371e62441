/**
 * The service's own cost per spawn:
 *  - RSS per live spawn: the built service as a real process (real child processes, pipes, records, journal),
 *    its VmRSS (after the same 200 spawns were started and stopped once) before and after 200 live spawns of a tiny stand-in server (a shell script that reports ready with
 *    curl and sleeps; a simulator would cost 200 Node processes), divided by 200;
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
import { sleep } from '../support/wait';
import { startService } from './processes';
import { type BenchRow, httpRequest, median, percentile, round } from './stats';

const LIVE = 200;
const SWEEP_SPAWNS = 1000;
const SWEEPS = 300;
/** 250 ports of this bench's own range (the e2e file warm-pool uses the same range; both run under the lock). */
const PORTS = 26100;

function vmRssKb(pid: number): number {
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]);
}

async function rssPerSpawnKiB(): Promise<{ perSpawn: number; before: number; after: number }> {
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
    await sleep(2000);
    const before = vmRssKb(service.child.pid!);
    for (let i = 0; i < LIVE / 20; i++) await spawnBatch(20);
    await sleep(1500);
    const after = vmRssKb(service.child.pid!);
    return { perSpawn: (after - before) / LIVE, before, after };
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
  const sweeps = await sweepTimes();
  return [
    {
      row: 'service RSS per live spawn',
      unit: 'KiB',
      n: LIVE,
      median: round(rss.perSpawn),
      p99: '',
      anchor: `service VmRSS ${Math.round(rss.before / 1024)} -> ${Math.round(rss.after / 1024)} MiB`,
      target: '<= 20 KiB',
      pass: rss.perSpawn <= 20,
      note: 'real service, 200 live stand-in servers',
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

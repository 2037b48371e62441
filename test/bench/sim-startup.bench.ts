/**
 * Simulator startup benchmark: spawns N simulators one after another, timing each from spawn to its
 * `ready` report arriving at a real liveliness receiver, then reads the resident memory (VmRSS) of
 * each idle simulator one second after the last became ready. All are stopped at the end.
 */
import { readFileSync } from 'fs';
import {
  type SimulatorProcess,
  simulatorOptions,
  sleep,
  startLivelinessReceiver,
  startSimulator,
  withCleanup,
} from '../support';

export const title = 'Simulator startup: spawn to ready, and idle RSS';

const COUNT = 20;
const IDLE_SETTLE_MS = 1000;

export async function run(): Promise<Array<Record<string, string | number>>> {
  return withCleanup(async (cleanup) => {
    const receiver = await startLivelinessReceiver({ cleanup });
    const sims: SimulatorProcess[] = [];
    const startupMs: number[] = [];
    for (let i = 0; i < COUNT; i++) {
      const options = await simulatorOptions({}, receiver.url);
      const sim = startSimulator(options, { cleanup });
      sims.push(sim);
      const ready = await receiver.waitForReport(options.id!, 'ready', 10000);
      startupMs.push(ready.at - sim.spawnedAt);
    }
    await sleep(IDLE_SETTLE_MS);
    const rssMb = sims.map((sim) => vmRssKb(sim.pid) / 1024);

    for (const sim of sims) sim.kill('SIGTERM');
    const exits = await Promise.all(sims.map((sim) => sim.waitForExit(5000)));
    const clean = exits.filter((exit) => exit.code === 0).length;

    return [
      {
        metric: 'spawn to ready (ms)',
        n: COUNT,
        median: round(percentile(startupMs, 50)),
        p99: round(percentile(startupMs, 99)),
        max: round(Math.max(...startupMs)),
      },
      {
        metric: 'idle RSS (MB)',
        n: COUNT,
        median: round(percentile(rssMb, 50)),
        p99: round(percentile(rssMb, 99)),
        max: round(Math.max(...rssMb)),
      },
      { metric: 'clean exits on SIGTERM', n: COUNT, median: '', p99: '', max: `${clean}/${COUNT}` },
    ];
  });
}

function vmRssKb(pid: number): number {
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]);
}

/** Nearest-rank percentile. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

/**
 * What logging and metrics cost a spawn: N sequential `POST /spawn` (each deleted and waited for) against two
 * instances of the built service side by side, alternating A, B, A, B... so both see the same machine load:
 *  - on:  LOG_LEVEL=info (JSON access and supervisor lines), API keys checked, /metrics scraped after every spawn;
 *  - off: LOG_LEVEL=silent, no keys, never scraped.
 * Target: the median with logging and metrics within 2 % of the median without.
 */
import type { BenchRow } from './stats';
import { withCleanup } from '../support/processes';
import { startService } from './processes';
import { timeServiceSpawn } from './spawn.bench';
import { httpRequest, percentile, round } from './stats';

const SAMPLES = Number(process.env.BENCH_SPAWN_SAMPLES ?? 50);
const WARMUP = 3;
/** This benchmark's own WebSocket port ranges. */
const ON_PORT_BASE = 25900;
const OFF_PORT_BASE = 25950;
const KEY = 'bench-key-0123456789abcdef';

export async function run(): Promise<BenchRow[]> {
  return withCleanup(async (cleanup) => {
    const on = await startService(cleanup, {
      LOG_LEVEL: 'info',
      API_KEYS: KEY,
      SC_PORT_BASE: String(ON_PORT_BASE),
      SC_PORT_COUNT: '40',
    });
    const off = await startService(cleanup, {
      LOG_LEVEL: 'silent',
      SC_PORT_BASE: String(OFF_PORT_BASE),
      SC_PORT_COUNT: '40',
    });
    const auth = { authorization: `Bearer ${KEY}` };
    const onMs: number[] = [];
    const offMs: number[] = [];
    let scrapedBytes = 0;
    for (let i = 0; i < WARMUP + SAMPLES; i++) {
      // Alternate which goes first, so neither always runs right after the other's teardown.
      const first = i % 2 === 0;
      const a = first ? await timeServiceSpawn(on, auth) : undefined;
      const b = await timeServiceSpawn(off);
      const aLate = first ? a! : await timeServiceSpawn(on, auth);
      const scrape = await httpRequest(on.url, 'GET', '/metrics', undefined, auth);
      if (scrape.status !== 200) throw new Error(`GET /metrics answered ${scrape.status}`);
      scrapedBytes = scrape.body.length;
      if (i >= WARMUP) {
        onMs.push(aLate);
        offMs.push(b);
      }
    }
    const onMedian = percentile(onMs, 50);
    const offMedian = percentile(offMs, 50);
    const ratio = onMedian / offMedian;
    return [
      {
        row: 'POST /spawn with logs + metrics on',
        unit: 'ms',
        n: onMs.length,
        median: round(onMedian),
        p99: round(percentile(onMs, 99)),
        anchor: 'the same, LOG_LEVEL=silent, no scrapes',
        anchorMedian: round(offMedian),
        anchorP99: round(percentile(offMs, 99)),
        vsAnchor: `${round(ratio, 3)}x`,
        target: '<= 1.02x',
        pass: ratio <= 1.02,
        note: `/metrics scrape ${scrapedBytes} B`,
      },
    ];
  });
}

/**
 * 1,000 concurrent POST /spawn at capacity (every one answered 503), vs the same burst of GET /health/ready on
 * the same service (also 503 at capacity): per-request latency from send to the whole answer, rounds alternated.
 */
import * as http from 'http';
import { performance } from 'perf_hooks';
import { withCleanup } from '../support/processes';
import { startService } from './processes';
import { type BenchRow, httpRequest, median, percentile, ratio, round } from './stats';

const BURST = 1000;
const ROUNDS = Number(process.env.BENCH_STORM_ROUNDS ?? 3);
const PORTS = 24700;

export async function run(): Promise<BenchRow[]> {
  return withCleanup(async (cleanup) => {
    const service = await startService(cleanup, {
      SC_PORT_BASE: String(PORTS),
      SC_PORT_COUNT: '4',
      SC_MAX_SPAWNS: '1',
    });
    const filled = await httpRequest(service.url, 'POST', '/spawn', '{}');
    if (filled.status !== 200) throw new Error(`could not fill the only slot: ${filled.status}`);
    const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
    cleanup.add(() => agent.destroy(), 'burst agent');
    const spawnMs: number[] = [];
    const readyMs: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const order = r % 2 === 0 ? ['spawn', 'ready'] : ['ready', 'spawn'];
      for (const which of order) {
        const times =
          which === 'spawn'
            ? await burst(agent, service.url, 'POST', '/spawn', '{}')
            : await burst(agent, service.url, 'GET', '/health/ready');
        (which === 'spawn' ? spawnMs : readyMs).push(...times);
      }
    }
    const p99 = percentile(spawnMs, 99);
    const anchorP99 = percentile(readyMs, 99);
    return [
      {
        row: `${BURST} concurrent POST /spawn at capacity (503)`,
        unit: 'ms',
        n: spawnMs.length,
        median: round(median(spawnMs)),
        p99: round(p99),
        anchor: `${BURST} concurrent GET /health/ready`,
        anchorMedian: round(median(readyMs)),
        anchorP99: round(anchorP99),
        vsAnchor: `p99 ${ratio(p99, anchorP99)}`,
        target: 'p99 <= 1.5x (issue 9)',
        pass: p99 <= 1.5 * anchorP99,
        note: `${ROUNDS} rounds alternated`,
      },
    ];
  });
}

/** Sends `BURST` requests at once, each on its own connection; resolves with each one's latency. All must be 503. */
function burst(agent: http.Agent, base: string, method: string, path: string, body?: string): Promise<number[]> {
  return Promise.all(
    Array.from(
      { length: BURST },
      () =>
        new Promise<number>((resolve, reject) => {
          const started = performance.now();
          const headers: http.OutgoingHttpHeaders =
            body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
          const req = http.request(new URL(path, base), { method, headers, agent }, (res) => {
            res.resume();
            res.on('end', () => {
              if (res.statusCode !== 503) reject(new Error(`${method} ${path} answered ${res.statusCode}, not 503`));
              else resolve(performance.now() - started);
            });
          });
          req.on('error', reject);
          req.end(body);
        }),
    ),
  );
}

/**
 * WebSocket proxy benchmark: the built service (dist/src/main.js) runs as its own process with two
 * simulator sessions; this process is the viewer of both, one directly on the server's port and one
 * through the proxy (/ws/<id>). Rounds alternate which path goes first; each round measures
 *   - echo throughput: N binary 1 MiB messages, pipelined with a window of W in flight;
 *   - round-trip latency: sequential small binary messages, one in flight.
 * Reported: medians over rounds (throughput) and over all round trips (latency), and the proxy's cost:
 * throughput ratio (median of the per-round proxy/direct ratios; target >= 0.8) and added median latency
 * (target < 0.3 ms). Also the CPU time each process (viewer, service, server) spends per MiB echoed, read
 * from /proc: unlike rates, it hardly depends on what else the machine is running.
 * Run with `npm run bench` (builds first), or alone: `npm run build && TS_NODE_TRANSPILE_ONLY=1 node -r ts-node/register test/bench/proxy.bench.ts`.
 */
import { readFileSync } from 'fs';
import { cpus } from 'os';
import { WebSocket, type RawData } from 'ws';
import { freePort, withCleanup } from '../support';
import { startServiceProcess } from '../support/spawner-app';

export const title = 'WebSocket proxy vs direct: 1 MiB echo throughput and small-message round trip';

const ROUNDS = Number(process.env.PROXY_BENCH_ROUNDS ?? 10);
const MESSAGE_BYTES = 1024 * 1024;
const THROUGHPUT_MESSAGES = 200;
const WINDOW = 8;
const PINGS = 2000;
const PING_WARMUP = 200;
const PING_BYTES = 32;
const PORT_BASE = 24800;

const TARGET_THROUGHPUT_RATIO = 0.8;
const TARGET_ADDED_LATENCY_MS = 0.3;

type Path = 'direct' | 'proxy';

/** One viewer connection with a single pending-message handler (the benchmark drives one exchange at a time). */
class BenchSocket {
  private onMessage: ((data: Buffer) => void) | undefined;
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: RawData) => this.onMessage?.(data as Buffer));
  }

  static async open(url: string): Promise<BenchSocket> {
    // Like a browser: masked frames with random keys, no compression.
    const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 256 * 1024 * 1024 });
    const socket = new BenchSocket(ws);
    const hello = new Promise<Buffer>((resolve) => (socket.onMessage = resolve));
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`${url}: HTTP ${res.statusCode}`)));
    });
    ws.on('error', () => undefined);
    const greeting = JSON.parse((await hello).toString('utf8')) as { type?: string };
    if (greeting.type !== 'hello')
      throw new Error(`${url}: expected the server's hello, got ${JSON.stringify(greeting)}`);
    return socket;
  }

  /** MiB/s of echoed payload: `count` messages of `size` bytes, `window` in flight, each echo checked. */
  throughput(count: number, size: number, window: number): Promise<number> {
    const payload = Buffer.alloc(size, 0xa5);
    let sent = 0;
    let received = 0;
    return new Promise((resolve, reject) => {
      const send = () => {
        payload.writeUInt32BE(sent++, 0);
        this.ws.send(payload, { binary: true });
      };
      const started = process.hrtime.bigint();
      this.onMessage = (data) => {
        if (data.length !== size || data.readUInt32BE(0) !== received) {
          reject(
            new Error(
              `echo ${received}: got ${data.length} bytes, sequence ${data.length >= 4 ? data.readUInt32BE(0) : '?'}`,
            ),
          );
          return;
        }
        received++;
        if (received === count) {
          const seconds = Number(process.hrtime.bigint() - started) / 1e9;
          this.onMessage = undefined;
          resolve((count * size) / (1024 * 1024) / seconds);
        } else if (sent < count) send();
      };
      for (let i = 0; i < Math.min(window, count); i++) send();
    });
  }

  /** Round-trip times in ms of `count` sequential small messages (after `warmup` untimed ones). */
  async roundTrips(count: number, warmup: number, size: number): Promise<number[]> {
    const payload = Buffer.alloc(size, 0x5a);
    const times: number[] = [];
    for (let i = 0; i < warmup + count; i++) {
      const started = process.hrtime.bigint();
      await new Promise<void>((resolve, reject) => {
        this.onMessage = (data) =>
          data.length === size ? resolve() : reject(new Error(`echo of ${data.length} bytes, expected ${size}`));
        this.ws.send(payload, { binary: true });
      });
      if (i >= warmup) times.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
    this.onMessage = undefined;
    return times;
  }

  close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.ws.terminate(), 2000);
      this.ws.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      this.ws.close(1000, 'benchmark done');
    });
  }
}

export async function run(): Promise<Array<Record<string, string | number>>> {
  return withCleanup(async (cleanup) => {
    const port = await freePort();
    const service = await startServiceProcess(port, {
      SC_PORT_BASE: String(PORT_BASE),
      SC_PORT_COUNT: '8',
      SC_MAX_SPAWNS: '4',
      SC_INITIAL_USE_DURATION_S: '120',
    });
    cleanup.add(() => service.stop(), 'service process');

    const spawn = async (): Promise<{ endpoint: string; proxyEndpoint: string; pid: number }> => {
      const response = await fetch(`${service.url}/spawn`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      if (response.status !== 200) throw new Error(`POST /spawn: ${response.status} ${await response.text()}`);
      return (await response.json()) as { endpoint: string; proxyEndpoint: string; pid: number };
    };
    const [a, b] = [await spawn(), await spawn()];
    const sockets: Record<Path, BenchSocket> = {
      direct: await BenchSocket.open(a.endpoint),
      proxy: await BenchSocket.open(b.proxyEndpoint),
    };
    cleanup.add(() => Promise.all(Object.values(sockets).map((s) => s.close())), 'viewer sockets');

    // CPU time each process spends per MiB echoed, by path: independent of what else the machine is doing.
    const serverPid: Record<Path, number> = { direct: a.pid, proxy: b.pid };
    const cpu: Record<Path, { client: number; service: number; server: number; mib: number }> = {
      direct: { client: 0, service: 0, server: 0, mib: 0 },
      proxy: { client: 0, service: 0, server: 0, mib: 0 },
    };
    const measured = async (path: Path, count: number): Promise<number> => {
      const before = {
        client: clientCpuMs(),
        service: processCpuMs(service.child.pid!),
        server: processCpuMs(serverPid[path]),
      };
      const rate = await sockets[path].throughput(count, MESSAGE_BYTES, WINDOW);
      cpu[path].client += clientCpuMs() - before.client;
      cpu[path].service += processCpuMs(service.child.pid!) - before.service;
      cpu[path].server += processCpuMs(serverPid[path]) - before.server;
      cpu[path].mib += (count * MESSAGE_BYTES) / (1024 * 1024);
      return rate;
    };
    const mibPerS: Record<Path, number[]> = { direct: [], proxy: [] };
    const rttMs: Record<Path, number[]> = { direct: [], proxy: [] };
    // Warm both paths up (JIT, TCP windows) before anything is measured.
    for (const path of ['direct', 'proxy'] as const) await sockets[path].throughput(20, MESSAGE_BYTES, WINDOW);
    for (let round = 0; round < ROUNDS; round++) {
      const order: Path[] = round % 2 === 0 ? ['direct', 'proxy'] : ['proxy', 'direct'];
      for (const path of order) mibPerS[path].push(await measured(path, THROUGHPUT_MESSAGES));
      for (const path of order)
        rttMs[path].push(...(await sockets[path].roundTrips(PINGS / ROUNDS, PING_WARMUP / ROUNDS, PING_BYTES)));
    }

    const throughput = { direct: median(mibPerS.direct), proxy: median(mibPerS.proxy) };
    // Each round's two runs are back to back, so they share the machine's load of the moment: the median of
    // the per-round ratios is steadier on a busy machine than the ratio of the two medians.
    const ratio = median(mibPerS.proxy.map((proxy, i) => proxy / mibPerS.direct[i]));
    const latency = { direct: median(rttMs.direct), proxy: median(rttMs.proxy) };
    const added = latency.proxy - latency.direct;
    const p99 = { direct: percentile(rttMs.direct, 99), proxy: percentile(rttMs.proxy, 99) };
    const note = `${ROUNDS} interleaved rounds, ${cpus().length} CPUs`;
    return [
      {
        metric: `echo throughput, ${THROUGHPUT_MESSAGES} x 1 MiB, window ${WINDOW} (MiB/s, median)`,
        direct: round1(throughput.direct),
        proxy: round1(throughput.proxy),
        'proxy cost': `${ratio.toFixed(2)}x`,
        target: `>= ${TARGET_THROUGHPUT_RATIO}x`,
        met: ratio >= TARGET_THROUGHPUT_RATIO ? 'yes' : 'NO',
        runs: `median of ${ROUNDS} paired ratios; direct ${round1(Math.min(...mibPerS.direct))}-${round1(Math.max(...mibPerS.direct))}, proxy ${round1(Math.min(...mibPerS.proxy))}-${round1(Math.max(...mibPerS.proxy))}`,
      },
      {
        metric: `round trip, ${PING_BYTES} B, ${PINGS} sequential (ms, median)`,
        direct: round3(latency.direct),
        proxy: round3(latency.proxy),
        'proxy cost': `+${round3(added)} ms`,
        target: `< +${TARGET_ADDED_LATENCY_MS} ms`,
        met: added < TARGET_ADDED_LATENCY_MS ? 'yes' : 'NO',
        runs: note,
      },
      ...(['direct', 'proxy'] as const).map((path) => ({
        metric: `CPU ms per MiB echoed, ${path}: viewer / service / server`,
        direct: '',
        proxy: '',
        'proxy cost': `${round3(cpu[path].client / cpu[path].mib)} / ${round3(cpu[path].service / cpu[path].mib)} / ${round3(cpu[path].server / cpu[path].mib)}`,
        target: '',
        met: '',
        runs: `total ${round3((cpu[path].client + cpu[path].service + cpu[path].server) / cpu[path].mib)}`,
      })),
      {
        metric: 'round trip (ms, p99)',
        direct: round3(p99.direct),
        proxy: round3(p99.proxy),
        'proxy cost': `+${round3(p99.proxy - p99.direct)} ms`,
        target: '',
        met: '',
        runs: '',
      },
    ];
  });
}

/** CPU time (user + system) a process has used so far, in ms, from /proc/<pid>/stat. */
function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticksPerSecond = 100; // USER_HZ on Linux
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond;
}

function clientCpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

function median(values: number[]): number {
  return percentile(values, 50);
}

/** Nearest-rank percentile. */
function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(1, Math.ceil((p / 100) * sorted.length)) - 1];
}

const round1 = (n: number): number => Math.round(n * 10) / 10;
const round3 = (n: number): number => Math.round(n * 1000) / 1000;

if (require.main === module) {
  run().then(
    (rows) => console.table(rows),
    (error) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}

/**
 * WebSocket relay: four sessions of the built service, one viewer each, echoing through four paths:
 * direct (the server's own port), the service's proxy (/ws/<id>), Debian's nginx proxying the third
 * session's port (a child process on 127.0.0.1 with a generated config in a temp dir), and the smallest Node.js
 * relay (minimal-relay.ts, its own process) on the fourth: the floor of any relay in Node. Rounds rotate the
 * order; each round measures the 1 MiB echo throughput (window of 8) and the 32 B round trip (one in flight).
 * Eight rounds (each path first twice) after a whole warm-up round: one 1 MiB echo varies by a third from round to round on a 2-core
 * machine (the echoing server and the client share it), and with five rounds after a short warm-up the same build
 * measured 0.74x and 1.20x nginx in two runs.
 */
import { spawn } from 'child_process';
import { existsSync, writeFileSync } from 'fs';
import * as path from 'path';
import { WebSocket, type RawData } from 'ws';
import { freePort } from '../support/ports';
import { withCleanup, type Cleanup } from '../support/processes';
import { makeTempDir } from '../support/temp';
import { waitFor } from '../support/wait';
import { startService } from './processes';
import { type BenchRow, httpRequest, median, percentile, round } from './stats';

const NGINX = '/usr/sbin/nginx';
const ROUNDS = Number(process.env.BENCH_RELAY_ROUNDS ?? 8);
const MESSAGE_BYTES = 1024 * 1024;
const THROUGHPUT_MESSAGES = 100;
const WINDOW = 8;
const PINGS_PER_ROUND = 250;
const PING_WARMUP = 25;
const PING_BYTES = 32;
const PORTS = 24800;

type Path = 'direct' | 'proxy' | 'nginx' | 'node';

class BenchSocket {
  private onMessage: ((data: Buffer) => void) | undefined;
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: RawData) => this.onMessage?.(data as Buffer));
  }

  static async open(url: string): Promise<BenchSocket> {
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

  /** MiB/s of echoed payload, each echo checked. */
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
          reject(new Error(`echo ${received}: got ${data.length} bytes`));
          return;
        }
        received++;
        if (received === count) {
          this.onMessage = undefined;
          resolve((count * size) / (1024 * 1024) / (Number(process.hrtime.bigint() - started) / 1e9));
        } else if (sent < count) send();
      };
      for (let i = 0; i < Math.min(window, count); i++) send();
    });
  }

  async roundTrips(count: number, warmup: number, size: number): Promise<number[]> {
    const payload = Buffer.alloc(size, 0x5a);
    const times: number[] = [];
    for (let i = 0; i < warmup + count; i++) {
      const started = process.hrtime.bigint();
      await new Promise<void>((resolve, reject) => {
        this.onMessage = (data) =>
          data.length === size ? resolve() : reject(new Error(`echo of ${data.length} bytes`));
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

/** nginx in the foreground on 127.0.0.1, proxying WebSockets to `upstreamPort`; everything it writes stays in a temp dir. */
async function startNginx(cleanup: Cleanup, upstreamPort: number): Promise<string> {
  const dir = makeTempDir(cleanup, 'sc-bench-nginx-');
  const port = await freePort();
  const conf = path.join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    `daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://127.0.0.1:${upstreamPort};
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection "upgrade";
      proxy_buffering off;
      proxy_read_timeout 600s;
    }
  }
}
`,
  );
  const child = spawn(NGINX, ['-p', dir, '-c', conf, '-e', path.join(dir, 'error.log')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const stderr: string[] = [];
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  cleanup.trackChild(child);
  cleanup.add(async () => {
    child.kill('SIGQUIT');
    await waitFor(() => child.exitCode !== null || child.signalCode !== null, 5000, { description: 'nginx to exit' });
  }, 'nginx');
  await waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`nginx exited: ${stderr.join('')}`);
      return (await httpRequest(`http://127.0.0.1:${port}`, 'GET', '/').catch(() => ({ status: 0 }))).status > 0;
    },
    5000,
    { intervalMs: 20, description: () => `nginx to listen; stderr: ${stderr.join('')}` },
  );
  return `ws://127.0.0.1:${port}`;
}

/** minimal-relay.ts as its own process, piping to `upstreamPort`. */
async function startMinimalRelay(cleanup: Cleanup, upstreamPort: number): Promise<string> {
  const child = spawn(
    process.execPath,
    ['-r', 'ts-node/register', path.join(__dirname, 'minimal-relay.ts'), String(upstreamPort)],
    {
      cwd: path.join(__dirname, '..', '..'),
      env: { ...process.env, TS_NODE_TRANSPILE_ONLY: '1' },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  cleanup.trackChild(child);
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
    child.once('exit', (code) => reject(new Error(`the minimal relay exited (${code})`)));
  });
  return `ws://127.0.0.1:${port}`;
}

export async function run(): Promise<BenchRow[]> {
  return withCleanup(async (cleanup) => {
    const service = await startService(cleanup, {
      SC_PORT_BASE: String(PORTS),
      SC_PORT_COUNT: '8',
      SC_MAX_SPAWNS: '4',
      SC_INITIAL_USE_DURATION_S: '120',
    });
    const spawnOne = async () => {
      const response = await httpRequest(service.url, 'POST', '/spawn', '{}');
      if (response.status !== 200) throw new Error(`POST /spawn: ${response.status} ${response.body}`);
      return JSON.parse(response.body) as { endpoint: string; proxyEndpoint: string; wsPort: number };
    };
    const hasNginx = existsSync(NGINX);
    const [a, b, c, d] = [await spawnOne(), await spawnOne(), await spawnOne(), await spawnOne()];
    const sockets: Partial<Record<Path, BenchSocket>> = {
      direct: await BenchSocket.open(a.endpoint),
      proxy: await BenchSocket.open(b.proxyEndpoint),
      node: await BenchSocket.open(await startMinimalRelay(cleanup, d.wsPort)),
    };
    if (hasNginx) sockets.nginx = await BenchSocket.open(await startNginx(cleanup, c.wsPort));
    cleanup.add(() => Promise.all(Object.values(sockets).map((s) => s.close())), 'viewer sockets');
    const paths = Object.keys(sockets) as Path[];

    for (const p of paths) await sockets[p]!.throughput(THROUGHPUT_MESSAGES, MESSAGE_BYTES, WINDOW);
    for (const p of paths) await sockets[p]!.roundTrips(PINGS_PER_ROUND, PING_WARMUP, PING_BYTES);
    const mibPerS: Record<Path, number[]> = { direct: [], proxy: [], nginx: [], node: [] };
    const rttMs: Record<Path, number[]> = { direct: [], proxy: [], nginx: [], node: [] };
    for (let r = 0; r < ROUNDS; r++) {
      const order = paths.map((_, k) => paths[(k + r) % paths.length]);
      for (const p of order) mibPerS[p].push(await sockets[p]!.throughput(THROUGHPUT_MESSAGES, MESSAGE_BYTES, WINDOW));
      for (const p of order) rttMs[p].push(...(await sockets[p]!.roundTrips(PINGS_PER_ROUND, PING_WARMUP, PING_BYTES)));
    }

    const tp = (p: Path) => median(mibPerS[p]);
    const rtt = (p: Path) => median(rttMs[p]);
    const added = (p: Path) => rtt(p) - rtt('direct');
    /** The proxy's throughput against `anchor`'s, as a ratio. */
    const throughputRow = (anchor: Path, label: string, extra: Partial<BenchRow> = {}): BenchRow => ({
      row: 'relay throughput, 1 MiB echo, proxy',
      unit: 'MiB/s',
      n: ROUNDS,
      median: round(tp('proxy')),
      p99: round(percentile(mibPerS.proxy, 1)),
      anchor: label,
      anchorMedian: round(tp(anchor)),
      anchorP99: round(percentile(mibPerS[anchor], 1)),
      vsAnchor: `${(tp('proxy') / tp(anchor)).toFixed(2)}x`,
      target: '',
      ...extra,
    });
    /** The proxy's round trip against `anchor`'s; `vsAnchor` says what the proxy adds. */
    const roundTripRow = (anchor: Path, label: string, vsAnchor: string, extra: Partial<BenchRow> = {}): BenchRow => ({
      row: 'relay round trip, 32 B, proxy',
      unit: 'ms',
      n: rttMs.proxy.length,
      median: round(rtt('proxy'), 3),
      p99: round(percentile(rttMs.proxy, 99), 3),
      anchor: label,
      anchorMedian: round(rtt(anchor), 3),
      anchorP99: round(percentile(rttMs[anchor], 99), 3),
      vsAnchor,
      target: '',
      ...extra,
    });
    const rows: BenchRow[] = [
      throughputRow('direct', 'direct connection', { note: 'p99 column: slowest round (1st percentile)' }),
      roundTripRow('direct', 'direct connection', `+${round(added('proxy'), 3)} ms added`),
      throughputRow('node', 'minimal Node.js relay (own process)', {
        note: "the floor of a relay in Node.js: what nginx's lead owes to Node itself (docs/benchmarks.md)",
      }),
      roundTripRow(
        'node',
        'minimal Node.js relay (own process)',
        `added +${round(added('proxy'), 3)} vs +${round(added('node'), 3)} ms`,
      ),
    ];
    if (!hasNginx) {
      rows.push({
        row: 'relay vs nginx',
        unit: '',
        n: 0,
        median: '',
        p99: '',
        anchor: `nginx: ${NGINX} is missing (npm run setup installs it)`,
        target: '',
      });
      return rows;
    }
    rows.push(
      throughputRow('nginx', 'nginx 1 worker, same session kind', {
        target: ">= nginx's (>= 1.00x)",
        pass: tp('proxy') >= tp('nginx'),
      }),
      roundTripRow(
        'nginx',
        'nginx proxying a session',
        `added +${round(added('proxy'), 3)} vs nginx +${round(added('nginx'), 3)} ms`,
        { target: "added <= nginx's + 0.02 ms (issue 20)", pass: added('proxy') <= added('nginx') + 0.02 },
      ),
    );
    return rows;
  });
}

/**
 * The "tutorial" spawner the benchmark compares the service with: plain Node http, nothing else. POST /spawn
 * starts the server with the same argv the service would give it, and answers once its `ready` report arrives;
 * DELETE /spawns/<id> sends SIGTERM. No validation, no registry, no timeouts, no logging.
 * Run: node -r ts-node/register test/bench/minimal-spawner.ts <executable> <licenseFile> <portBase> <start JSON>
 * (prints its port); the start JSON says how the service starts servers (fair-start.ts).
 */
import { randomUUID } from 'crypto';
import * as http from 'http';
import { toArgv } from '@app/sc-protocol';
import { type AnchorServer, launchLikeService } from './fair-start';

const [executable, licenseFile, portBaseArg, startJson] = process.argv.slice(2);
// How the service starts a server (environment, CPU priority, its launcher): see fair-start.ts.
const start = JSON.parse(startJson) as Parameters<typeof launchLikeService>[0];
const portBase = Number(portBaseArg);
const children = new Map<string, AnchorServer>();
const waiting = new Map<string, () => void>();
let nextPort = 0;

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  req.resume();
  if (req.method === 'POST' && url.pathname.startsWith('/liveliness/')) {
    if (url.searchParams.get('liveliness') === 'ready') waiting.get(url.pathname.slice('/liveliness/'.length))?.();
    res.writeHead(204).end();
  } else if (req.method === 'POST' && url.pathname === '/spawn') {
    const id = randomUUID();
    const port = portBase + (nextPort++ % 100);
    const { port: own } = server.address() as { port: number };
    const args = toArgv({
      id,
      scPort: port,
      licenseFile,
      csr: true,
      livelinessEndpoint: `http://127.0.0.1:${own}/liveliness`,
      livelinessUpdateFrequency: 5,
      initialUseDuration: 60,
    });
    void launchLikeService(start, executable, args).then((child) => {
      children.set(id, child);
      void child.exited.then(() => children.delete(id));
    });
    waiting.set(id, () => {
      waiting.delete(id);
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ id, pid: children.get(id)?.pid, port }));
    });
  } else if (req.method === 'DELETE' && url.pathname.startsWith('/spawns/')) {
    children.get(url.pathname.slice('/spawns/'.length))?.kill('SIGTERM');
    res.writeHead(202).end();
  } else res.writeHead(404).end();
});

server.listen(0, '127.0.0.1', () => console.log(`listening ${(server.address() as { port: number }).port}`));
process.on('SIGTERM', () => {
  for (const child of children.values()) child.kill('SIGKILL');
  server.close(() => process.exit(0));
});

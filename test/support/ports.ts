import { connect, createServer } from 'net';

const handedOut = new Set<number>();

/**
 * A TCP port that is free right now: binds port 0 on `host` (default 127.0.0.1), reads the port the
 * system chose, closes. Never returns the same port twice in one test process, so tests that ask
 * for several ports in a row get distinct ones even before they bind them.
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.unref();
      server.once('error', reject);
      server.listen({ port: 0, host, exclusive: true }, () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error('freePort: no new free port found');
}

/** Several distinct free ports. */
export async function freePorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  const ports: number[] = [];
  for (let i = 0; i < count; i++) ports.push(await freePort(host));
  return ports;
}

/** Connects to a TCP port on loopback, reads until the other side closes, and returns what it said. */
export function readUntilClosed(port: number, host = '127.0.0.1'): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect(port, host);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => resolve(Buffer.concat(chunks).toString()));
    socket.on('error', reject);
  });
}

import type { INestApplication } from '@nestjs/common';
import type { Server } from 'net';
import { holdTwin } from '../adapters';

/**
 * The accept queue of the service's port. Node's default (511) overflows when a burst of clients connects at
 * once (a thousand viewers arriving, a balancer's checks among them) while the event loop is busy: the kernel
 * drops what does not fit, and each dropped client tries again only after its 1 s SYN timeout, so a health check
 * with a 2 s timeout can miss twice. The kernel caps it at net.core.somaxconn (see somaxconnWarning).
 */
export const LISTEN_BACKLOG = 4096;

/** Below this net.core.somaxconn, start-up advises raising it. */
export const SOMAXCONN_ADVISED = 1024;

export const SOMAXCONN_FILE = '/proc/sys/net/core/somaxconn';

/**
 * app.listen(port, host) with LISTEN_BACKLOG (Nest passes the extra argument on to http.Server#listen), and the
 * same port on the other address family's twin of a wildcard or loopback host, served by the same server (holdTwin).
 * Resolves with the twin held, if any.
 */
export async function listenWithBacklog(
  app: INestApplication,
  port: number,
  host: string,
): Promise<string | undefined> {
  const listen = app.listen.bind(app) as unknown as (port: number, host: string, backlog: number) => Promise<unknown>;
  await listen(port, host, LISTEN_BACKLOG);
  const server = app.getHttpServer() as Server;
  return holdTwin(server, (socket) => server.emit('connection', socket), { name: 'PORT', port }, LISTEN_BACKLOG);
}

/** A start-up warning when the kernel caps the accept queue low (128 on kernels before 5.4). */
export function somaxconnWarning(somaxconnText: string): string | undefined {
  const somaxconn = Number(somaxconnText.trim());
  if (!Number.isInteger(somaxconn) || somaxconn <= 0 || somaxconn >= SOMAXCONN_ADVISED) return undefined;
  return `net.core.somaxconn is ${somaxconn}: the kernel holds at most ${somaxconn} connections waiting to be accepted, and clients beyond that in a burst retry after 1 s; raise it (sysctl -w net.core.somaxconn=${LISTEN_BACKLOG})`;
}

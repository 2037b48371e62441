import { lookup } from 'dns/promises';
import { type AddressInfo, createServer, isIP, type Server, type Socket } from 'net';

/**
 * The other address family's twin of a wildcard or loopback address. A listener on 0.0.0.0 or 127.0.0.1 leaves
 * [::]:port and [::1]:port to whoever binds them first, and a client that reaches the port over IPv6 (a host name
 * with an AAAA record, `localhost` resolved to ::1) would send its key to that program instead: another local user
 * needs no privilege to bind a port above 1024 on an address family the service left free.
 */
const TWINS: Readonly<Record<string, string>> = { '0.0.0.0': '::', '127.0.0.1': '::1', '::1': '127.0.0.1' };

/** The kernel has no such family or address (IPv6 off, no ::1): there is nothing there for anyone to take. */
const ABSENT = new Set(['EAFNOSUPPORT', 'EADDRNOTAVAIL', 'EPROTONOSUPPORT']);

/** An IPv4 address written as IPv6 (::ffff:127.0.0.1): a socket bound to it holds the IPv4 address. */
const V4_MAPPED = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;

export function twinAddress(address: string): string | undefined {
  const v4 = V4_MAPPED.exec(address)?.[1];
  return v4 === undefined ? TWINS[address] : TWINS[v4];
}

const shown = (address: string): string => (address.includes(':') ? `[${address}]` : address);

/**
 * Listens on the twin of `server`'s address, on its port, handing every connection to `accept`, and stops when
 * `server` closes. Resolves with the twin held, or undefined where there is none (a named address, `::` which holds
 * both families, or a kernel without the other family); rejects with one line naming `setting` when another
 * program holds it, unless `setting` asked for any free port (0): nobody can aim at a port before it is chosen,
 * and another program's chance use of its twin must not stop the service.
 */
export function holdTwin(
  server: Server,
  accept: (socket: Socket) => void,
  setting: { name: string; port: number },
  backlog?: number,
): Promise<string | undefined> {
  const { address, port } = server.address() as AddressInfo;
  const twin = twinAddress(address);
  if (twin === undefined) return Promise.resolve(undefined);
  const guard = createServer(accept);
  return new Promise((resolve, reject) => {
    guard.once('error', (error: NodeJS.ErrnoException) => {
      if ((error.code !== undefined && ABSENT.has(error.code)) || setting.port === 0) return resolve(undefined);
      reject(new Error(twinProblem(twin, port, setting.name, error)));
    });
    guard.listen({ host: twin, port, ipv6Only: twin === '::', backlog }, () => {
      guard.removeAllListeners('error');
      guard.on('error', () => undefined); // an accept that fails (EMFILE) is the client's loss, not a crash
      server.once('close', () => guard.close());
      resolve(twin);
    });
  });
}

/** Why the twin of host:port cannot be held, or undefined: the start-up check, before anything is started. */
export async function twinPortProblem(host: string, port: number, setting: string): Promise<string | undefined> {
  if (port === 0) return undefined;
  const twin = twinAddress(await listenAddress(host));
  if (twin === undefined) return undefined;
  const error = await bindError(twin, port, twin === '::');
  return error === undefined || (error.code !== undefined && ABSENT.has(error.code))
    ? undefined
    : twinProblem(twin, port, setting, error);
}

/**
 * The address a listener on `host` gets: a name (HOST=localhost) is looked up as `listen` looks it up, its first
 * address, so the start-up check sees the twin the listener will need (a name that does not resolve has none here:
 * the listen itself then fails naming it).
 */
async function listenAddress(host: string): Promise<string> {
  if (isIP(host) !== 0) return host;
  return lookup(host).then(
    (found) => found.address,
    () => host,
  );
}

/** What listening on host:port now fails with, or undefined when it can (the listener is closed again). */
export function bindError(host: string, port: number, ipv6Only = false): Promise<NodeJS.ErrnoException | undefined> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', (error: NodeJS.ErrnoException) => resolve(error));
    probe.listen({ host, port, ipv6Only, exclusive: true }, () => probe.close(() => resolve(undefined)));
  });
}

function twinProblem(twin: string, port: number, setting: string, error: NodeJS.ErrnoException): string {
  const family = twin.includes(':') ? 'IPv6' : 'IPv4';
  if (error.code !== 'EADDRINUSE') return `cannot listen on ${shown(twin)}:${port} (${setting}): ${error.message}`;
  return (
    `port ${port} on ${shown(twin)} is already in use by another program (${setting}), which would answer the ` +
    `clients that reach this port over ${family}: stop it, or set HOST to one address`
  );
}

import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { FileSystem } from './file-system.adapter';
import { findPerl } from './process-launcher.adapter';
import { type DiagAnswer, type DiagQuery, SockDiagProcess } from './socket-diag.process';

/** An address and port as Node.js sockets name them. */
export interface Endpoint {
  address: string;
  port: number;
}

/**
 * What the kernel says of one TCP socket: its inode; 'absent' (no such socket); 'unavailable' (it cannot be asked
 * here: read /proc/net/tcp instead).
 */
export type SocketLookup = DiagAnswer;

/** The machine's TCP sockets, looked up one at a time by both ends. Fakes under test/ replace it. */
export abstract class SocketTable {
  /** The socket on this machine whose own end is `local` and whose peer is `remote`. */
  abstract find(local: Endpoint, remote: Endpoint): Promise<SocketLookup>;
}

/**
 * Asks the kernel (NETLINK_SOCK_DIAG, through the perl co-process of socket-diag.script.ts) for exactly one
 * socket. 'unavailable' where there is no perl or netlink is refused (some sandboxes): the caller then reads
 * /proc/net/tcp, which gives the same answer at a cost that grows with every socket of the machine.
 */
@Injectable()
export class KernelSocketTable extends SocketTable implements OnApplicationShutdown {
  private readonly logger = new Logger('SocketTable');
  private diag: Promise<SockDiagProcess | undefined> | undefined;

  constructor(private readonly files: FileSystem) {
    super();
  }

  async find(local: Endpoint, remote: Endpoint): Promise<SocketLookup> {
    const queries = diagQueries(local, remote);
    if (queries.length === 0) return 'absent';
    const diag = await (this.diag ??= this.start());
    if (!diag?.usable) return 'unavailable';
    for (const query of queries) {
      const answer = await diag.ask(query);
      if (answer !== 'absent') return answer;
    }
    return 'absent';
  }

  async onApplicationShutdown(): Promise<void> {
    await (await this.diag)?.stop();
  }

  private async start(): Promise<SockDiagProcess | undefined> {
    const perl = findPerl(this.files);
    const started = perl ? await SockDiagProcess.start(perl) : 'no perl';
    if (typeof started !== 'string') return started;
    this.logger.warn(`sockets are looked up in /proc/net/tcp (netlink sock_diag unavailable: ${started})`);
    return undefined;
  }
}

/**
 * The questions that find the socket with these ends: an IPv4 pair (plain or IPv4-mapped, as a dual-stack
 * listener names it) is an AF_INET socket or, rarely, an AF_INET6 one; anything else AF_INET6.
 */
export function diagQueries(local: Endpoint, remote: Endpoint): DiagQuery[] {
  const src = addressBytes(local.address);
  const dst = addressBytes(remote.address);
  if (!src || !dst || !validPort(local.port) || !validPort(remote.port)) return [];
  const v6: DiagQuery = { family: 10, src, sport: local.port, dst, dport: remote.port };
  if (!src.startsWith(V4_MAPPED) || !dst.startsWith(V4_MAPPED)) return [v6];
  const v4 = (bytes: string) => bytes.slice(V4_MAPPED.length).padEnd(32, '0');
  return [{ family: 2, src: v4(src), sport: local.port, dst: v4(dst), dport: remote.port }, v6];
}

function validPort(port: number): boolean {
  return Number.isInteger(port) && port > 0 && port <= 0xffff;
}

export const V4_MAPPED = '00000000000000000000ffff';

/** 16 bytes in hex; IPv4 (and IPv4-mapped IPv6) as ::ffff:a.b.c.d, so that either form of an address matches. */
export function addressBytes(address: string): string | undefined {
  const v4 = /^(?:::ffff:)?(\d+)\.(\d+)\.(\d+)\.(\d+)$/i.exec(address);
  if (v4) {
    const octets = v4.slice(1).map(Number);
    if (octets.some((n) => n > 255)) return undefined;
    return V4_MAPPED + octets.map((n) => n.toString(16).padStart(2, '0')).join('');
  }
  if (!/^[0-9a-f:]+$/i.test(address)) return undefined;
  const halves = address.split('::');
  if (halves.length > 2) return undefined;
  const groups = (half: string) => (half === '' ? [] : half.split(':'));
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0;
  const all = [...head, ...Array<string>(Math.max(fill, 0)).fill('0'), ...tail];
  if (all.length !== 8 || all.some((g) => g.length === 0 || g.length > 4)) return undefined;
  return all
    .map((g) => g.padStart(4, '0'))
    .join('')
    .toLowerCase();
}

import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { FileSystem } from './file-system.adapter';
import { findPerl } from './process-launcher.adapter';
import { type DiagAnswer, type DiagQuery, type FoundSocket, SockDiagProcess } from './socket-diag.process';

export type { FoundSocket };

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
export class KernelSocketTable extends SocketTable implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('SocketTable');
  private current: SockDiagProcess | undefined;
  private starting: Promise<void> | undefined;
  /** Set for good where netlink cannot be used here (no perl, refused): every lookup is 'unavailable'. */
  private unavailable = false;
  private stopped = false;
  /** After the co-process died, when it may be started again. */
  private restartAt = 0;

  constructor(
    private readonly files: FileSystem,
    private readonly restartDelayMs = RESTART_DELAY_MS,
  ) {
    super();
  }

  /** Started with the service, so that it is there for the first server's report. */
  onApplicationBootstrap(): void {
    this.startIfDue();
  }

  /**
   * Never waits for the co-process to start: until it is there (or while it is started again after dying), a lookup
   * is 'unavailable' and the caller reads /proc, so a slow start cannot hold a server's ready report.
   */
  async find(local: Endpoint, remote: Endpoint): Promise<SocketLookup> {
    const query = diagQuery(local, remote);
    if (!query) return 'absent';
    if (this.current?.usable) return this.current.ask(query);
    this.startIfDue();
    return 'unavailable';
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    await this.starting;
    await this.current?.stop();
  }

  private startIfDue(): void {
    if (this.unavailable || this.stopped || this.starting || this.current?.usable) return;
    if (performance.now() < this.restartAt) return;
    this.starting = this.start().finally(() => (this.starting = undefined));
  }

  private async start(): Promise<void> {
    const perl = findPerl(this.files);
    const started = perl ? await SockDiagProcess.start(perl) : 'no perl';
    if (typeof started === 'string') {
      this.unavailable = true;
      this.logger.warn(`sockets are looked up in /proc/net/tcp (netlink sock_diag unavailable: ${started})`);
      return;
    }
    this.current = started;
    void started.closed().then((how) => {
      if (this.stopped) return;
      this.restartAt = performance.now() + this.restartDelayMs;
      this.logger.warn(
        `netlink co-process ended (${how}): /proc/net/tcp meanwhile, a new one after ${this.restartDelayMs / 1000} s`,
      );
    });
  }
}

/** A co-process that died (killed, or ended for not answering) is started again no sooner than this. */
const RESTART_DELAY_MS = 5000;

/**
 * The question that finds the socket with these ends: an IPv4 pair (plain or IPv4-mapped, as a dual-stack listener
 * names it) is asked as AF_INET, which the kernel answers for AF_INET6 sockets with IPv4-mapped ends too (they are
 * hashed as IPv4); anything else as AF_INET6.
 */
export function diagQuery(local: Endpoint, remote: Endpoint): DiagQuery | undefined {
  const src = addressBytes(local.address);
  const dst = addressBytes(remote.address);
  if (!src || !dst || !validPort(local.port) || !validPort(remote.port)) return undefined;
  if (!src.startsWith(V4_MAPPED) || !dst.startsWith(V4_MAPPED)) {
    return { family: 10, src, sport: local.port, dst, dport: remote.port };
  }
  const v4 = (bytes: string) => bytes.slice(V4_MAPPED.length).padEnd(32, '0');
  return { family: 2, src: v4(src), sport: local.port, dst: v4(dst), dport: remote.port };
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

import { type Endpoint, type SocketLookup, SocketTable } from '../../src/adapters/socket-table.adapter';

/**
 * The kernel's socket lookup as a test sets it: `sockets` maps "address:port>address:port" (own end, then the
 * peer) to an inode; `available` false stands for a machine where netlink cannot be used (callers read /proc).
 */
export class FakeSocketTable extends SocketTable {
  readonly sockets = new Map<string, string>();
  available = true;
  lookups = 0;

  find(local: Endpoint, remote: Endpoint): Promise<SocketLookup> {
    this.lookups++;
    if (!this.available) return Promise.resolve('unavailable');
    const inode = this.sockets.get(`${local.address}:${local.port}>${remote.address}:${remote.port}`);
    return Promise.resolve(inode ? { inode } : 'absent');
  }
}

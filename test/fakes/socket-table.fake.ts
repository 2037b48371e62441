import { type Endpoint, type SocketLookup, SocketTable } from '../../src/adapters/socket-table.adapter';

/**
 * The kernel's socket lookup as a test sets it: `sockets` maps "address:port>address:port" (own end, then the
 * peer) to an inode, owned by `uids`' user for that key, else uid 0; `available` false stands for a machine where
 * netlink cannot be used (callers read /proc).
 */
export class FakeSocketTable extends SocketTable {
  readonly sockets = new Map<string, string>();
  readonly uids = new Map<string, number>();
  available = true;
  lookups = 0;

  find(local: Endpoint, remote: Endpoint): Promise<SocketLookup> {
    this.lookups++;
    if (!this.available) return Promise.resolve('unavailable');
    const key = `${local.address}:${local.port}>${remote.address}:${remote.port}`;
    const inode = this.sockets.get(key);
    return Promise.resolve(inode ? { inode, uid: this.uids.get(key) ?? 0 } : 'absent');
  }
}

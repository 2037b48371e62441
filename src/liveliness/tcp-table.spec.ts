import { type Endpoint, findPeerSocket } from './tcp-table';

const HEADER = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode';
const row = (local: string, remote: string, inode: string, uid = 0) =>
  `   0: ${local} ${remote} 01 00000000:00000000 00:00000000 00000000 ${String(uid).padStart(5)}        0 ${inode} 1 0000000000000000 20 4 30 10 -1`;

describe('TCP table', () => {
  // The service listens on 127.0.0.1:11182 (0x2BAE); a server connected from port 40000 (0x9C40).
  const TCP = [
    HEADER,
    row('0100007F:2BAE', '00000000:0000', '100'), // the listener
    row('0100007F:9C40', '0100007F:2BAE', '555'), // the server's end
    row('0100007F:2BAE', '0100007F:9C40', '556'), // our accepted end
  ].join('\n');
  const TCP6 = [
    HEADER,
    row('0000000000000000FFFF00000100007F:9C41', '0000000000000000FFFF00000100007F:2BAE', '777'),
    row('00000000000000000000000001000000:9C42', '00000000000000000000000001000000:2BAE', '888'),
  ].join('\n');
  const table = `${TCP}\n${TCP6}`;
  const peerSocketInode = (text: string, ours: Endpoint, peer: Endpoint) => findPeerSocket(text, ours, peer)?.inode;

  it('finds the peer socket of an accepted connection by its address pair, whichever form the address takes', () => {
    const ours = { address: '127.0.0.1', port: 11182 };
    expect(peerSocketInode(table, ours, { address: '127.0.0.1', port: 40000 })).toBe('555');
    expect(
      peerSocketInode(table, { ...ours, address: '::ffff:127.0.0.1' }, { address: '::ffff:127.0.0.1', port: 40000 }),
    ).toBe('555');
    expect(peerSocketInode(table, ours, { address: '::ffff:127.0.0.1', port: 40001 })).toBe('777');
    expect(peerSocketInode(table, { address: '::1', port: 11182 }, { address: '::1', port: 40002 })).toBe('888');
    expect(peerSocketInode(table, ours, { address: '127.0.0.1', port: 40003 })).toBeUndefined();
  });

  it('matches whole endpoints only, skips a socket without an inode (TIME_WAIT), reads the last line too', () => {
    const ours = { address: '127.0.0.1', port: 11182 };
    const text = [
      HEADER,
      row('0100007F:9C40', '0100007F:2BAE', '0'), // a closed connection of the same pair, waiting out TIME_WAIT
      row('1100007F:9C40', '0100007F:2BAE', '111'), // 127.0.0.17: not the peer
      row('0100007F:9C40', '0100007F:2BAE', '555'),
    ].join('\n');
    expect(peerSocketInode(text, ours, { address: '127.0.0.1', port: 40000 })).toBe('555');
    expect(peerSocketInode(text, ours, { address: '127.0.0.17', port: 40000 })).toBe('111');
    expect(peerSocketInode(text, { ...ours, port: 1182 }, { address: '127.0.0.1', port: 40000 })).toBeUndefined();
    expect(peerSocketInode(text, ours, { address: 'not an address', port: 40000 })).toBeUndefined();
  });

  it("gives the user who owns the peer's socket", () => {
    const ours = { address: '127.0.0.1', port: 11182 };
    const text = [HEADER, row('0100007F:9C40', '0100007F:2BAE', '555', 65534)].join('\n');
    expect(findPeerSocket(text, ours, { address: '127.0.0.1', port: 40000 })).toEqual({ inode: '555', uid: 65534 });
  });
});

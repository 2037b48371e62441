/** An address and port as /proc/net/tcp{,6} and Node.js sockets name them, reduced to one comparable key. */
export interface Endpoint {
  address: string;
  port: number;
}

export interface TcpSocketEntry {
  local: string;
  remote: string;
  inode: string;
}

/**
 * The sockets of /proc/net/tcp and /proc/net/tcp6: "sl local rem st tx:rx tr:when retr uid timeout inode ...",
 * addresses in hex (each 32-bit word in host byte order, little-endian here), ports in hex.
 */
export function parseTcpTable(text: string): TcpSocketEntry[] {
  const entries: TcpSocketEntry[] = [];
  for (const line of text.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 10 || !fields[0].endsWith(':')) continue;
    const local = procEndpointKey(fields[1]);
    const remote = procEndpointKey(fields[2]);
    if (local && remote && /^\d+$/.test(fields[9])) entries.push({ local, remote, inode: fields[9] });
  }
  return entries;
}

/**
 * The inode of the socket at the other end of a connection this process accepted: the peer's own socket has
 * the connection's remote end as its local address and ours as its remote. Both ends are on this machine.
 */
export function peerSocketInode(table: readonly TcpSocketEntry[], ours: Endpoint, peer: Endpoint): string | undefined {
  const local = endpointKey(peer);
  const remote = endpointKey(ours);
  if (!local || !remote) return undefined;
  return table.find((entry) => entry.local === local && entry.remote === remote && entry.inode !== '0')?.inode;
}

function endpointKey({ address, port }: Endpoint): string | undefined {
  const bytes = addressBytes(address);
  return bytes && `${bytes}:${port}`;
}

function procEndpointKey(text: string): string | undefined {
  const [hex, portHex] = text.split(':');
  if (!portHex || !/^[0-9A-Fa-f]+$/.test(hex) || (hex.length !== 8 && hex.length !== 32)) return undefined;
  const words = hex.match(/.{8}/g)!.map((word) => word.match(/../g)!.reverse().join(''));
  const bytes = (hex.length === 8 ? V4_MAPPED + words[0] : words.join('')).toLowerCase();
  return `${bytes}:${parseInt(portHex, 16)}`;
}

const V4_MAPPED = '00000000000000000000ffff';

/** 16 bytes in hex; IPv4 (and IPv4-mapped IPv6) as ::ffff:a.b.c.d, so that either form of an address matches. */
export function addressBytes(address: string): string | undefined {
  const v4 = /^(?:::ffff:)?(\d+)\.(\d+)\.(\d+)\.(\d+)$/i.exec(address);
  if (v4)
    return (
      V4_MAPPED +
      v4
        .slice(1)
        .map((n) => Number(n).toString(16).padStart(2, '0'))
        .join('')
    );
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

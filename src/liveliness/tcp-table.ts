import { addressBytes, type Endpoint, type FoundSocket, V4_MAPPED } from '../adapters';

export type { Endpoint };

/**
 * The socket at the other end of a connection this process accepted, read from the text of
 * /proc/net/tcp and /proc/net/tcp6: the peer's own socket has the connection's remote end as its local address
 * and ours as its remote. Both ends are on this machine. Only the one line is parsed: the table holds every
 * socket of the machine (thousands during a burst), and this runs for each new liveliness connection.
 */
export function findPeerSocket(table: string, ours: Endpoint, peer: Endpoint): FoundSocket | undefined {
  const locals = procForms(peer);
  const remotes = procForms(ours);
  for (const [i, local] of locals.entries()) {
    const remote = remotes[i];
    if (!local || !remote) continue;
    // "sl local rem st tx:rx tr:when retr uid timeout inode ...": from the pair on, the uid is the 7th, the inode the 9th.
    for (let at = table.indexOf(` ${local} ${remote} `); at >= 0; at = table.indexOf(` ${local} ${remote} `, at + 1)) {
      const end = table.indexOf('\n', at);
      const fields = table
        .slice(at, end < 0 ? undefined : end)
        .trim()
        .split(/\s+/);
      const [uid, inode] = [fields[6], fields[8]];
      if (inode && /^\d+$/.test(inode) && inode !== '0' && /^\d+$/.test(uid ?? '')) return { inode, uid: Number(uid) };
    }
  }
  return undefined;
}

/**
 * An endpoint as the kernel prints it: `%08X:%04X` in /proc/net/tcp (IPv4 only) and `%08X%08X%08X%08X:%04X` in
 * /proc/net/tcp6 (IPv4 as ::ffff:a.b.c.d), each 32-bit word in host byte order (little-endian here).
 */
function procForms({ address, port }: Endpoint): [string | undefined, string | undefined] {
  const bytes = addressBytes(address);
  if (!bytes || !Number.isInteger(port) || port < 0 || port > 0xffff) return [undefined, undefined];
  const portHex = port.toString(16).toUpperCase().padStart(4, '0');
  const words = bytes.match(/.{8}/g)!.map((word) => word.match(/../g)!.reverse().join('').toUpperCase());
  const v6 = `${words.join('')}:${portHex}`;
  return [bytes.startsWith(V4_MAPPED) ? `${words[3]}:${portHex}` : undefined, v6];
}

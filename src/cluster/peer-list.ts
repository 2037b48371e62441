import { isIP } from 'net';

/** Where a node's peers come from: a static list of base URLs, or a DNS name (port given separately). */
export type PeerSource =
  { kind: 'none' } | { kind: 'static'; urls: string[] } | { kind: 'dns'; name: string; port: number };

export function peerSource(settings: { peers: string[]; peersDns?: string; peersPort: number }): PeerSource {
  if (settings.peersDns) return { kind: 'dns', name: settings.peersDns, port: settings.peersPort };
  if (settings.peers.length > 0) return { kind: 'static', urls: [...settings.peers] };
  return { kind: 'none' };
}

/** The base URL of a node found at `address` (an IPv4 or IPv6 address, or a host name) on `port`. */
export function addressUrl(address: string, port: number): string {
  const host = isIP(address) === 6 ? `[${address}]` : address;
  return `http://${host}:${port}`;
}

/** The peers' base URLs: the static list, or one per resolved address (deduplicated, in a stable order). */
export function peerUrls(source: PeerSource, addresses: readonly string[] = []): string[] {
  switch (source.kind) {
    case 'none':
      return [];
    case 'static':
      return [...new Set(source.urls)];
    case 'dns':
      return [...new Set(addresses)].sort().map((address) => addressUrl(address, source.port));
  }
}

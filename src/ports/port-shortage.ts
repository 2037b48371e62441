import type { PortCounts } from './port-allocator.service';

/**
 * Why no WebSocket port can be leased, for the spawn's 503 and readiness: ports leased by this node's servers are
 * capacity in use, ports held by another program are a fault someone must clear (the ss command names its owner).
 */
export function portShortage(counts: PortCounts, portBase: number, portCount: number): string {
  const last = portBase + portCount - 1;
  const range = `${portBase}-${last}`;
  if (counts.busy === 0)
    return `no free WebSocket port in ${range}: all ${counts.leased} leased by this node's servers`;
  return (
    `no free WebSocket port in ${range}: ${counts.busy} held by another program ` +
    `(ss -ltnp 'sport >= :${portBase} and sport <= :${last}' names it), ${counts.leased} leased by this node's servers`
  );
}

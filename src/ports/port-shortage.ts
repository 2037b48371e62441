import type { PortCounts } from './port-allocator.service';

/**
 * Why no WebSocket port can be leased, for the spawn's 503 and readiness: ports leased by this node's servers are
 * capacity in use, ports held by another program are a fault someone must clear (the ss command names its owner).
 */
export function portShortage(counts: PortCounts, portBase: number, portCount: number): string {
  const last = portBase + portCount - 1;
  const range = `${portBase}-${last}`;
  if (counts.probeFailure !== undefined)
    return (
      `no WebSocket port in ${range} could be checked: ${counts.probeFailure} (the service's own limit: open files, ` +
      `ulimit -n or LimitNOFILE), ${counts.leased} leased by this node's servers`
    );
  if (counts.busy === 0)
    return `no free WebSocket port in ${range}: all ${counts.leased} leased by this node's servers`;
  return (
    `no free WebSocket port in ${range}: ${counts.busy} held by another program ` +
    `(ss -ltnp 'sport >= :${portBase} and sport <= :${last}' names it), ${counts.leased} leased by this node's servers`
  );
}

/** How many runs of ports portRanges() names before it says how many more there are. */
const RANGES_NAMED = 8;

/** Ports as runs, for one log line: [5, 1, 2, 3, 9] is `1-3, 5, 9`; past RANGES_NAMED runs, `... and N more`. */
export function portRanges(ports: readonly number[]): string {
  const sorted = [...new Set(ports)].sort((a, b) => a - b);
  const runs: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let end = i;
    while (end + 1 < sorted.length && sorted[end + 1] === sorted[end] + 1) end++;
    runs.push(end === i ? String(sorted[i]) : `${sorted[i]}-${sorted[end]}`);
    i = end + 1;
  }
  if (runs.length <= RANGES_NAMED) return runs.join(', ');
  return `${runs.slice(0, RANGES_NAMED).join(', ')} and ${runs.length - RANGES_NAMED} more runs`;
}

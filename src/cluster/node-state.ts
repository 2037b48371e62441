import type { ClusterTotals, NodeEntry, NodeSessions, NodeState } from './cluster.types';
import { NODE_STATES } from './cluster.types';

/** What decides a node's state: its own capacity reading. */
export interface NodeCondition {
  draining: boolean;
  shuttingDown: boolean;
  /** A cold spawn would get a slot (one is free, or an unclaimed warm server can give its own). */
  canAcceptSpawn: boolean;
  freePorts: number;
}

/** draining (or stopping) first, then full (no slot or no port), else ready. */
export function decideNodeState(condition: NodeCondition): NodeState {
  if (condition.draining || condition.shuttingDown) return 'draining';
  if (!condition.canAcceptSpawn || condition.freePorts === 0) return 'full';
  return 'ready';
}

/** A node that could not be read: its place in the list, with nothing counted. */
export function unreachableEntry(url: string, error: string, readAt: Date, name?: string): NodeEntry {
  return {
    name: name ?? url.replace(/^https?:\/\//, ''),
    url,
    state: 'unreachable',
    error,
    capacity: { max: 0, active: 0, freePorts: 0 },
    sessions: { byState: {}, byRenderer: {} },
    warm: { csr: 0, ssr: 0, target: { csr: 0, ssr: 0 } },
    version: 'unknown',
    readAt: readAt.toISOString(),
  };
}

/** The fleet's sums: capacity, sessions and warm servers of the nodes read; nodes counted per state. */
export function clusterTotals(nodes: readonly NodeEntry[]): ClusterTotals {
  const byNodeState = Object.fromEntries(NODE_STATES.map((s) => [s, 0])) as Record<NodeState, number>;
  const capacity = { max: 0, active: 0, freePorts: 0 };
  const sessions: NodeSessions & { live: number } = { byState: {}, byRenderer: {}, live: 0 };
  const warm = { csr: 0, ssr: 0 };
  for (const node of nodes) {
    byNodeState[node.state] += 1;
    capacity.max += node.capacity.max;
    capacity.active += node.capacity.active;
    capacity.freePorts += node.capacity.freePorts;
    addCounts(sessions.byState, node.sessions.byState);
    addCounts(sessions.byRenderer, node.sessions.byRenderer);
    warm.csr += node.warm.csr;
    warm.ssr += node.warm.ssr;
  }
  sessions.live = Object.values(sessions.byRenderer).reduce((sum, n) => sum + n, 0);
  return { nodes: nodes.length, byNodeState, capacity, sessions, warm };
}

function addCounts(into: Record<string, number>, from: Record<string, number>): void {
  for (const [key, count] of Object.entries(from)) into[key] = (Object.hasOwn(into, key) ? into[key] : 0) + count;
}

/**
 * Nodes in name order, this node's own entry first. A name is one node's: when several peer URLs answer (or last
 * answered) with the same name, or a peer with this node's, no winner is picked. Each such peer is listed
 * unreachable, counting nothing, with the URLs that claim the name, so a liar cannot hide the real node.
 */
export function withNameConflicts(own: NodeEntry, peers: readonly NodeEntry[], readAt: Date): NodeEntry[] {
  const claims = new Map<string, string[]>();
  for (const peer of peers) claims.set(peer.name, [...(claims.get(peer.name) ?? []), peer.url]);
  const listed = peers.map((peer) => {
    const urls = claims.get(peer.name)!;
    if (peer.name !== own.name && urls.length === 1) return peer;
    const error =
      peer.name === own.name
        ? `${peer.name} is this node's name, also claimed by ${urls.join(', ')}`
        : `${peer.name} is claimed by ${urls.length} peers: ${urls.join(', ')}`;
    return unreachableEntry(peer.url, error, readAt, peer.name);
  });
  return [own, ...listed].sort(
    (a, b) => a.name.localeCompare(b.name) || Number(b === own) - Number(a === own) || a.url.localeCompare(b.url),
  );
}

/** The names more than one row of a node list has (see withNameConflicts). */
export function repeatedNames(nodes: ReadonlyArray<Pick<NodeEntry, 'name'>>): Set<string> {
  const seen = new Set<string>();
  const repeated = new Set<string>();
  for (const { name } of nodes) (seen.has(name) ? repeated : seen).add(name);
  return repeated;
}

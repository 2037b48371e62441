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
  for (const [key, count] of Object.entries(from)) into[key] = (into[key] ?? 0) + count;
}

/** Nodes in name order, each once: the first entry read for a name wins (this node's own comes first). */
export function uniqueByName(nodes: readonly NodeEntry[]): NodeEntry[] {
  const seen = new Map<string, NodeEntry>();
  for (const node of nodes) if (!seen.has(node.name)) seen.set(node.name, node);
  return [...seen.values()].sort((a, b) => a.name.localeCompare(b.name));
}

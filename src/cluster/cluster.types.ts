/** The fleet view's shapes: one node's entry (GET /cluster/self) and the whole fleet (GET /cluster). */
export const NODE_STATES = ['ready', 'full', 'draining', 'unreachable'] as const;
export type NodeState = (typeof NODE_STATES)[number];

export interface NodeSessions {
  /** Spawns per state (live states and the ended ones still kept). */
  byState: Record<string, number>;
  /** Live spawns per renderer. */
  byRenderer: Record<string, number>;
}

export interface NodeEntry {
  name: string;
  /** Where this node was read: a peer's base URL, or this node's own address as the client reached it. */
  url: string;
  state: NodeState;
  /** A random id of the node's process: a node that finds itself among its peers knows it by this. */
  instance?: string;
  /** Why the node is unreachable, or why it is not ready. */
  error?: string;
  capacity: { max: number; active: number; freePorts: number };
  sessions: NodeSessions;
  warm: { csr: number; ssr: number; target: { csr: number; ssr: number } };
  version: string;
  /** When the entry was read (ISO time). */
  readAt: string;
}

export interface ClusterTotals {
  nodes: number;
  byNodeState: Record<NodeState, number>;
  capacity: { max: number; active: number; freePorts: number };
  sessions: NodeSessions & { live: number };
  warm: { csr: number; ssr: number };
}

export interface ClusterView {
  nodes: NodeEntry[];
  totals: ClusterTotals;
}

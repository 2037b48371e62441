import { NODE_NAME_PATTERN } from '../config';

/** The ids this service gives its spawns (crypto.randomUUID()). */
export const SPAWN_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** The end of a session's relay link: its node's prefix and its relay token (or `unclaimed`). */
const WS_LINK_END = /^wss?:\/\/[^\s]+\/n\/([a-z0-9-]{1,63})\/ws\/[A-Za-z0-9_-]{1,64}$/;

/** A session as GET /cluster/spawns lists it: a spawn view of its node, with that node's name and links. */
export interface NodeSpawn {
  id: string;
  node: string;
  links: { self: string; events: string; logs: string; ws?: string };
  [field: string]: unknown;
}

/**
 * The most sessions taken from one peer: far above a real node's (its SC_MAX_SPAWNS live ones and the 100 ended
 * ones kept), so a peer listing made-up ones cannot swell every fleet answer and dashboard.
 */
export const MAX_SESSIONS_PER_PEER = 1000;

/** The first `max` sessions of a peer, and what to say when it listed more. */
export function firstSessions(spawns: NodeSpawn[], max = MAX_SESSIONS_PER_PEER): { shown: NodeSpawn[]; note?: string } {
  if (spawns.length <= max) return { shown: spawns };
  return { shown: spawns.slice(0, max), note: `listed ${spawns.length} sessions; the first ${max} are shown` };
}

/** A peer's GET /spawns answer: a list, or the peer is reported as failed. */
export function parseSpawnList(body: unknown): unknown[] {
  if (!Array.isArray(body)) throw new Error('answered something that is not a list of spawns (GET /spawns)');
  return body;
}

/** A session's links under its node's prefix on the balancer (`base`: PUBLIC_BASE_URL, or '' for this host). */
export function sessionLinks(base: string, node: string, id: string): NodeSpawn['links'] {
  const self = `${base}/n/${encodeURIComponent(node)}/spawns/${encodeURIComponent(id)}`;
  return { self, events: `${self}/events`, logs: `${self}/logs` };
}

/**
 * The sessions a peer listed, kept only where they can be its own: an id as this service issues them and the
 * node name that peer answered GET /cluster/self with. Their links are rebuilt from node and id, never taken
 * from the peer: a peer could otherwise point a row's Stop at another node's session. Its WebSocket link is kept
 * only on the peer's own host or the balancer's (`base`), and stands for its endpoints (the dashboard opens it);
 * the rest is copied as text, numbers and flags, bounded (PEER_FIELD_LIMITS).
 */
export function peerSpawns(listed: readonly unknown[], peerName: string, base: string, peerUrl: string): NodeSpawn[] {
  if (!NODE_NAME_PATTERN.test(peerName)) return [];
  const hosts = new Set([hostOf(peerUrl), hostOf(base)].filter((host): host is string => host !== undefined));
  const kept: NodeSpawn[] = [];
  for (const item of listed) {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) continue;
    const spawn = item as Record<string, unknown>;
    if (typeof spawn.id !== 'string' || !SPAWN_ID_PATTERN.test(spawn.id) || spawn.node !== peerName) continue;
    const links: NodeSpawn['links'] = sessionLinks(base, peerName, spawn.id);
    const ws = (spawn.links as { ws?: unknown } | undefined)?.ws;
    if (typeof ws === 'string' && WS_LINK_END.exec(ws)?.[1] === peerName && hosts.has(hostOf(ws) ?? '')) links.ws = ws;
    const fields = boundedCopy(spawn, 0) as Record<string, unknown>;
    const endpoints = { endpoint: links.ws ?? null, proxyEndpoint: links.ws ?? null };
    kept.push({ ...fields, ...endpoints, id: spawn.id, node: peerName, links });
  }
  return kept;
}

/** What is copied of a peer's session: objects two levels deep (its relay counts), short texts, few keys. */
export const PEER_FIELD_LIMITS = { depth: 2, keys: 64, text: 300 };

function boundedCopy(value: unknown, depth: number): unknown {
  if (value === null || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string') {
    return value.length > PEER_FIELD_LIMITS.text ? `${value.slice(0, PEER_FIELD_LIMITS.text)}…` : value;
  }
  if (typeof value !== 'object' || Array.isArray(value) || depth > PEER_FIELD_LIMITS.depth) return undefined;
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value).slice(0, PEER_FIELD_LIMITS.keys)) {
    const kept = boundedCopy(item, depth + 1);
    if (kept !== undefined && /^[A-Za-z][A-Za-z0-9]{0,39}$/.test(key)) copy[key] = kept;
  }
  return copy;
}

/** The host (and port) of a URL, ws:// or http://; undefined for anything else. */
function hostOf(url: string): string | undefined {
  try {
    return url ? new URL(url).host : undefined;
  } catch {
    return undefined;
  }
}

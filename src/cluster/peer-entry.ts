import { NODE_NAME_PATTERN } from '../config';
import { NODE_STATES, type NodeEntry, type NodeState } from './cluster.types';

/** Far above any node's ports, slots or sessions. */
export const MAX_PEER_COUNT = 1_000_000;
/** Session states and renderers: short lower-case words, a few of each. */
const COUNT_KEY = /^[a-z][a-z0-9_-]{0,31}$/;
const MAX_COUNT_KEYS = 16;
/** A peer's error or version text is shown as far as this. */
const MAX_TEXT = 300;

/** A field of a peer's entry that is not what an sc-spawner node sends. */
class OddField extends Error {
  constructor(field: string, what: string) {
    super(`answered something that is not an sc-spawner node entry (GET /cluster/self): ${field} ${what}`);
  }
}

/**
 * A peer's GET /cluster/self answer, rebuilt field by field: every count a whole number in range, every text
 * short, nothing else carried. One odd or lying node can then neither turn the fleet's sums into text (a count
 * `"5"`, or a state named `constructor`) nor swell every fleet answer with fields of its own.
 */
export function parsePeerEntry(body: unknown): Omit<NodeEntry, 'url'> {
  const entry = objectAt(body, 'the answer');
  const name = entry.name;
  if (typeof name !== 'string' || !NODE_NAME_PATTERN.test(name)) throw new OddField('name', 'is not a node name');
  const state = entry.state as NodeState;
  if (!NODE_STATES.includes(state)) throw new OddField('state', `is not one of ${NODE_STATES.join(', ')}`);
  const instance = entry.instance;
  if (instance !== undefined && (typeof instance !== 'string' || instance.length > 64)) {
    throw new OddField('instance', 'is not an instance id');
  }
  const capacity = objectAt(entry.capacity, 'capacity');
  const sessions = objectAt(entry.sessions, 'sessions');
  const warm = objectAt(entry.warm, 'warm');
  const target = objectAt(warm.target, 'warm.target');
  const error = entry.error === undefined ? undefined : textAt(entry.error, 'error');
  return {
    name,
    state,
    ...(instance === undefined ? {} : { instance }),
    ...(error === undefined ? {} : { error }),
    capacity: {
      max: countAt(capacity.max, 'capacity.max'),
      active: countAt(capacity.active, 'capacity.active'),
      freePorts: countAt(capacity.freePorts, 'capacity.freePorts'),
    },
    sessions: {
      byState: countsAt(sessions.byState, 'sessions.byState'),
      byRenderer: countsAt(sessions.byRenderer, 'sessions.byRenderer'),
    },
    warm: {
      csr: countAt(warm.csr, 'warm.csr'),
      ssr: countAt(warm.ssr, 'warm.ssr'),
      target: { csr: countAt(target.csr, 'warm.target.csr'), ssr: countAt(target.ssr, 'warm.target.ssr') },
    },
    version: entry.version === undefined ? 'unknown' : textAt(entry.version, 'version'),
    readAt: timeAt(entry.readAt),
  };
}

function objectAt(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new OddField(field, 'is not an object');
  return value as Record<string, unknown>;
}

function countAt(value: unknown, field: string): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 && value <= MAX_PEER_COUNT) return value;
  throw new OddField(field, `is not a whole number from 0 to ${MAX_PEER_COUNT}`);
}

/** Counts by name, in an object without a prototype: no name a peer picks can meet an inherited property. */
function countsAt(value: unknown, field: string): Record<string, number> {
  const listed = Object.entries(objectAt(value, field));
  if (listed.length > MAX_COUNT_KEYS) throw new OddField(field, `has more than ${MAX_COUNT_KEYS} entries`);
  const counts = Object.create(null) as Record<string, number>;
  for (const [key, count] of listed) {
    if (!COUNT_KEY.test(key)) throw new OddField(field, `has an entry named other than a short lower-case word`);
    counts[key] = countAt(count, `${field}.${key}`);
  }
  return counts;
}

function textAt(value: unknown, field: string): string {
  if (typeof value !== 'string') throw new OddField(field, 'is not text');
  return value.length > MAX_TEXT ? `${value.slice(0, MAX_TEXT)}…` : value;
}

function timeAt(value: unknown): string {
  const at = typeof value === 'string' ? Date.parse(value) : NaN;
  if (!Number.isFinite(at)) throw new OddField('readAt', 'is not a time');
  return new Date(at).toISOString();
}

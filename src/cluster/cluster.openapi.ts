/** The OpenAPI shapes of the cluster routes (plain JSON schemas: the answers are interfaces, not DTO classes). */
const COUNTS = { type: 'object', additionalProperties: { type: 'integer' } } as const;
const SESSIONS = { type: 'object', properties: { byState: COUNTS, byRenderer: COUNTS } } as const;
const STATE = { type: 'string', enum: ['ready', 'full', 'draining', 'unreachable'] } as const;

export const NODE_ENTRY_SCHEMA = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    url: { type: 'string' },
    state: STATE,
    instance: { type: 'string', description: "A random id of the node's process (how a node recognizes itself)" },
    error: { type: 'string', description: 'Why the node is unreachable' },
    capacity: {
      type: 'object',
      properties: { max: { type: 'integer' }, active: { type: 'integer' }, freePorts: { type: 'integer' } },
    },
    sessions: SESSIONS,
    warm: {
      type: 'object',
      properties: {
        csr: { type: 'integer' },
        ssr: { type: 'integer' },
        target: { type: 'object', properties: { csr: { type: 'integer' }, ssr: { type: 'integer' } } },
      },
    },
    version: { type: 'string' },
    readAt: { type: 'string', format: 'date-time' },
  },
} as const;

export const CLUSTER_SCHEMA = {
  type: 'object',
  properties: {
    nodes: { type: 'array', items: NODE_ENTRY_SCHEMA },
    totals: {
      type: 'object',
      properties: {
        nodes: { type: 'integer' },
        byNodeState: COUNTS,
        capacity: NODE_ENTRY_SCHEMA.properties.capacity,
        sessions: SESSIONS,
        warm: { type: 'object', properties: { csr: { type: 'integer' }, ssr: { type: 'integer' } } },
      },
    },
  },
} as const;

export const CLUSTER_SPAWNS_SCHEMA = {
  type: 'object',
  properties: {
    nodes: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          name: { type: 'string' },
          url: { type: 'string' },
          state: STATE,
          error: { type: 'string' },
          sessionsError: {
            type: 'string',
            description: "Why the node's sessions are missing (its GET /spawns failed)",
          },
        },
      },
    },
    spawns: {
      type: 'array',
      items: { type: 'object', description: 'A spawn view as GET /spawns gives it (node and links included)' },
    },
  },
} as const;

export const json = (schema: object) => ({ 'application/json': { schema: schema as never } });

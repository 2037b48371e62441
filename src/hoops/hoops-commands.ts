/** What GET /api/help lists: every command of the HOOPS Server API this service answers. */
export const HOOPS_COMMANDS: ReadonlyArray<{ method: string; path: string; description: string }> = [
  {
    method: 'POST',
    path: '/api/spawn',
    description:
      'Start a session: {"class": "csr_session"|"ssr_session", "params": {...}}; answers {"result": "ok", "serviceId", "endpoints": {"ws"}} once ready',
  },
  { method: 'POST', path: '/service', description: 'Legacy alias of POST /api/spawn' },
  {
    method: 'GET',
    path: '/api/status',
    description:
      'Counts per spawn state, ports, GPU allocation, memory and the non-secret configuration (?pretty=true)',
  },
  {
    method: 'GET',
    path: '/api/spawns',
    description: 'The live spawns with id, state, spawnTime and lastUpdateTime (?pretty=true)',
  },
  {
    method: 'POST',
    path: '/api/spawns/<id>?liveliness=ready|ping|disconnect',
    description: 'Liveliness report from a Stream Cache Server (this machine only)',
  },
  { method: 'GET', path: '/api/help', description: 'This list (?pretty=true)' },
  {
    method: 'WebSocket',
    path: '/?renderingLocation=csr|ssr',
    description: 'Spawn on connect: a new session for this WebSocket, joined to it once ready',
  },
];

/** The service's configuration: its type, its settings report and its error. Parsed in app-config.ts. */
import type { TrustProxySetting } from './edge-settings';

import type { CpuPriorityChoice } from './setting-parsers';
export type PublicEndpointMode = 'direct' | 'proxy';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The service's configuration, read and validated once at start-up from the environment. */
export class AppConfig {
  port: number;
  host: string;
  publicHostname?: string;
  publicEndpoint: PublicEndpointMode;
  publicScheme?: 'ws' | 'wss';
  /**
   * TRUST_PROXY, as Express's `trust proxy`: from these peers X-Forwarded-Proto picks ws/wss and X-Forwarded-For
   * gives the client address (rate limit, logs, connection cap). `true`: whatever connects (one hop).
   */
  trustProxy: TrustProxySetting;
  /** SC_TICKET_TTL_S: how long a spawn ticket (POST /tickets) may wait for its viewer. */
  ticketTtlS: number;
  /** SC_FIRST_MESSAGE_TIMEOUT_S: a tunnel whose viewer sent no message for this long is closed (4004). */
  firstMessageTimeoutS: number;
  /** HEADERS_TIMEOUT_S / REQUEST_TIMEOUT_S: the HTTP server's headersTimeout and requestTimeout. */
  headersTimeoutS: number;
  requestTimeoutS: number;
  /** MAX_CONNECTIONS_PER_CLIENT: open connections one client address may hold (trusted proxies exempt). */
  maxConnectionsPerClient: number;
  corsOrigins: string[] | true;

  /** API_KEYS: the keys given inline (API_KEYS_FILE is read by the auth module, through the FileSystem adapter). */
  apiKeys: string[];
  apiKeysFile?: string;
  /** SPAWN_AUTH=required: the spawn routes need a key too (open by default: HOOPS viewer clients send none). */
  spawnAuthRequired: boolean;
  metricsPublic: boolean;
  /** SPAWN_RATE_LIMIT, e.g. 30/60s: at most `limit` spawn requests per client address per `ttlMs`; unset: no limit. */
  spawnRateLimit?: { limit: number; ttlMs: number };
  logFormat: 'json' | 'pretty';
  logLevel: LogLevel;
  sseKeepAliveMs: number;

  /** This node's name in a cluster: its API is also served under /n/<nodeName>/. */
  nodeName: string;
  /** The balancer's address (no trailing slash); when set, every URL handed out for a session goes through it. */
  publicBaseUrl?: string;
  /** HAProxy agent-check port (TCP, on HOST); unset: no agent listener. */
  agentCheckPort?: number;
  /** On SIGTERM, how long live sessions may continue before they are stopped; 0: stop at once. */
  drainTimeoutS: number;
  /** SC_PEERS: the other nodes' base URLs (no trailing slash), for the fleet view (GET /cluster). */
  peers: string[];
  /** SC_PEERS_DNS: a name whose A/AAAA records are the nodes (a Kubernetes headless Service). */
  peersDns?: string;
  /** SC_PEERS_PORT: the port of the nodes found through SC_PEERS_DNS (default: PORT). */
  peersPort: number;
  /** SC_PEERS_REFRESH_S: how often SC_PEERS_DNS is resolved again. */
  peersRefreshS: number;
  /** CLUSTER_KEY: the key nodes send each other (accepted as an API key); else the first API key. */
  clusterKey?: string;

  scExecutable: string;
  usingSimulator: boolean;
  licenseFile?: string;
  license?: string;
  modelDirs: string[];
  allowedModelRoots: string[];
  workspaceDir?: string;
  /** Where the list of running servers is kept, so a restart after a crash can stop the orphans; unset: not kept. */
  stateDir?: string;
  /** The state folder is the per-port default in the temp folder, removed whenever no server runs. */
  stateDirIsDefault: boolean;
  extraArgs: string[];
  /** The servers serve wss:// (SC_EXTRA_ARGS gives them a certificate). */
  serversUseTls: boolean;

  portBase: number;
  portCount: number;
  maxSpawns: number;

  livelinessIntervalS: number;
  initialUseDurationS: number;
  readyTimeoutS: number;
  pingTimeoutS: number;
  killGraceS: number;
  sweepIntervalMs: number;

  /** Niceness the servers run at (0: none; a cgroup or autogroup mechanism still ranks them below the service). */
  childNice: number;
  /** How the servers are ranked below the service (SC_CPU_PRIORITY; auto: the best this machine allows). */
  cpuPriority: CpuPriorityChoice;
  /** Cores each server may use at most (SC_SERVER_CPU_MAX, cgroup v2 cpu.max); undefined: no limit. */
  serverCpuMax?: number;
  /** Bytes of memory each server may use at most (SC_SERVER_MEMORY_MAX, cgroup v2 memory.max); undefined: no limit. */
  serverMemoryMax?: number;
  /** Extra variables (names, or prefixes ending in '*') passed on to the servers besides the allow-list (SC_CHILD_ENV). */
  childEnv: string[];
  /** The variables this service reads as its settings: never passed on to a server (DISPLAY aside, which SSR needs). */
  settingNames: ReadonlySet<string>;
  /** Largest request body accepted, in bytes (BODY_LIMIT). */
  bodyLimitBytes: number;

  csrEnabled: boolean;
  ssrEnabled: boolean;
  ssrDisplay: string;
  ssrEgl: boolean;
  ssrGpuIndex?: number;

  /** How many ready, unclaimed servers of each renderer to keep (the warm pool); they count toward maxSpawns. */
  warmPool: { csr: number; ssr: number };
  /** Unclaimed warm servers older than this are retired and replaced. */
  warmMaxAgeS: number;
  /** SSR servers are spread over this many GPUs (each gets the one with the fewest live SSR sessions). */
  ssrGpuCount?: number;
  /**
   * A WebSocket upgrade at any path but /ws/<token> spawns a server for that viewer (the HOOPS Server's proxy mode).
   */
  spawnOnConnect: boolean;

  /** A relay-carried session whose viewer sent no message for this long is ended (SC_IDLE_TIMEOUT_S; 0: off). */
  idleTimeoutS = 0;
  /** A session older than this is ended (SC_MAX_SESSION_S; 0: off). */
  maxSessionS = 0;
  /** How long before either limit ends a session its `expiring` warning goes out (SC_END_WARNING_S). */
  endWarningS = 60;
  /** Live sessions per caller (SC_KEY_MAX_SESSIONS); undefined: no cap. */
  keyQuotas?: KeyQuotas;

  /** Every setting read, its value and its source, for the start-up log. */
  settings: EffectiveSetting[] = [];
  /** The HOOPS Server configuration file read (HOOPS_CONFIG), if any. */
  hoopsConfigFile?: string;
  /** What that file holds that has no equivalent here (one line each). */
  hoopsConfigWarnings: string[] = [];
  /** The `.env` file read, if any. */
  dotEnvFile?: string;
  /** The secret settings that file holds, whether or not the environment set them first (isSecretSetting). */
  dotEnvSecrets: string[] = [];
}

export interface EffectiveSetting {
  name: string;
  /** The value given, or the default used (undefined: not set, no default); SC_LICENSE is never shown. */
  value?: string;
  /** `env`, `Config.js <setting>` or `default`. */
  source: string;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** Options the service sets itself; SC_EXTRA_ARGS may not override them. */

/** Live sessions allowed per caller (SC_KEY_MAX_SESSIONS): by key name, and `*` for every other caller. */
export interface KeyQuotas {
  perKey: ReadonlyMap<string, number>;
  /** Every other key, and the anonymous callers (one budget per client address); undefined: no cap. */
  others?: number;
}

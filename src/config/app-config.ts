import * as os from 'os';
import * as path from 'path';
import { ArgvError, argvValueProblem, OPTION_SPECS, parseArgv } from '@app/sc-protocol';
import { Env, EnvReader } from './env-reader';
import { BUNDLED_SIMULATOR, SIMULATOR_DUMMY_LICENSE, SIMULATOR_SAMPLE_MODELS } from './bundled-files';

export { BUNDLED_SIMULATOR, SIMULATOR_DUMMY_LICENSE, SIMULATOR_SAMPLE_MODELS };

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
  /** TRUST_PROXY: X-Forwarded-Proto picks ws/wss, X-Forwarded-For gives the client address (rate limit, logs). */
  trustProxy: boolean;
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

  /** Niceness the servers run at (0: the service's own priority). */
  childNice: number;
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
  /** A WebSocket upgrade at any path but /ws/<id> spawns a server for that viewer (the HOOPS Server's proxy mode). */
  spawnOnConnect: boolean;

  /** Every setting read, its value and its source, for the start-up log. */
  settings: EffectiveSetting[] = [];
  /** The HOOPS Server configuration file read (HOOPS_CONFIG), if any. */
  hoopsConfigFile?: string;
  /** What that file holds that has no equivalent here (one line each). */
  hoopsConfigWarnings: string[] = [];
}

/** Settings whose value never appears in a log line. */
const SECRET_SETTINGS = new Set(['SC_LICENSE']);

/** One setting as the service runs with it, and where its value came from. */
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
const MANAGED_FLAGS = new Set([
  '--id',
  '--sc-port',
  '--license',
  '--license-file',
  '--liveliness-endpoint',
  '--liveliness-update-frequency',
  '--initial-use-duration',
  '--csr',
  '--ssr',
  '--model-file',
  '--session-token',
  '--model-search-directories',
  '--workspace-dir',
  '--ssr-egl',
  '--ssr-gpu-index',
]);

/**
 * Parses the settings; a ConfigError lists every problem. Pure: nothing on the host is looked at (see loadAppConfig).
 * `fromFile`: the settings that came from a HOOPS configuration file, with the setting each came from there.
 * `hostName` is the default NODE_NAME (the machine's, lower-cased).
 */
export function parseAppConfig(
  env: Env,
  fromFile: Record<string, string> = {},
  hostName: string = os.hostname(),
): AppConfig {
  const { config, problems } = readAppConfig(env, fromFile, hostName);
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** The settings and every problem found with them (none: the config is valid). */
export function readAppConfig(
  env: Env,
  fromFile: Record<string, string> = {},
  hostName: string = os.hostname(),
): { config: AppConfig; problems: string[] } {
  const read = new EnvReader(env);
  const config = new AppConfig();

  config.port = read.int('PORT', 11182, 0, 65535);
  config.host = read.string('HOST') ?? '0.0.0.0';
  config.publicHostname = read.string('PUBLIC_HOSTNAME');
  if (config.publicHostname && !/^[A-Za-z0-9.\-:[\]]+$/.test(config.publicHostname)) {
    read.problems.push(
      `PUBLIC_HOSTNAME must be a host name or IP address, got ${JSON.stringify(config.publicHostname)}`,
    );
  }
  config.publicEndpoint = read.oneOf('PUBLIC_ENDPOINT', ['direct', 'proxy'] as const, 'direct')!;
  config.publicScheme = read.oneOf('PUBLIC_SCHEME', ['ws', 'wss'] as const, undefined);
  config.trustProxy = read.bool('TRUST_PROXY', false);
  const origins = read.list('CORS_ORIGINS', ',');
  config.corsOrigins = origins.length === 0 || origins.includes('*') ? true : origins;
  const badOrigin = config.corsOrigins === true ? undefined : config.corsOrigins.find((o) => !isOrigin(o));
  if (badOrigin) {
    read.problems.push(
      `CORS_ORIGINS must be * or origins such as https://viewer.example.com (scheme://host[:port], no path), got ${JSON.stringify(badOrigin)}`,
    );
  }

  config.apiKeys = read.list('API_KEYS', ',');
  config.apiKeysFile = read.string('API_KEYS_FILE');
  if (config.apiKeysFile) config.apiKeysFile = path.resolve(config.apiKeysFile);
  if (config.apiKeysFile && config.apiKeys.length > 0) {
    read.problems.push('API_KEYS and API_KEYS_FILE are both set: set only one');
  } else if (read.raw('API_KEYS') !== undefined && config.apiKeys.length === 0) {
    read.problems.push('API_KEYS is set but holds no key (comma-separated keys expected)');
  }
  const shortKey = config.apiKeys.find((key) => key.length < MIN_API_KEY_LENGTH || /\s/.test(key));
  if (shortKey !== undefined) {
    read.problems.push(
      `API_KEYS: every key needs at least ${MIN_API_KEY_LENGTH} characters and no spaces (one key is ${shortKey.length} characters long)`,
    );
  }
  config.spawnAuthRequired = read.oneOf('SPAWN_AUTH', ['open', 'required'] as const, 'open') === 'required';
  if (config.spawnAuthRequired && config.apiKeys.length === 0 && !config.apiKeysFile) {
    read.problems.push('SPAWN_AUTH=required needs API_KEYS or API_KEYS_FILE');
  }
  config.metricsPublic = read.bool('METRICS_PUBLIC', false);
  config.spawnRateLimit = parseRateLimit(read);
  config.logFormat = read.oneOf('LOG_FORMAT', ['json', 'pretty'] as const, 'json')!;
  config.logLevel = read.oneOf('LOG_LEVEL', LOG_LEVELS, 'info')!;
  config.sseKeepAliveMs = read.int('SSE_KEEPALIVE_MS', 15_000, 10, 3_600_000);
  config.nodeName = parseNodeName(read, hostName);
  config.publicBaseUrl = parsePublicBaseUrl(read);
  const agentPort = read.raw('AGENT_CHECK_PORT');
  config.agentCheckPort = agentPort === undefined ? undefined : read.int('AGENT_CHECK_PORT', 0, 1, 65535);
  if (config.agentCheckPort !== undefined && config.agentCheckPort === config.port && config.port !== 0) {
    read.problems.push(`AGENT_CHECK_PORT must differ from PORT (both ${config.port})`);
  }
  config.drainTimeoutS = /^0+(\.0+)?$/.test(read.raw('DRAIN_TIMEOUT_S') ?? '') ? 0 : read.seconds('DRAIN_TIMEOUT_S', 0);

  const executable = read.string('SC_EXECUTABLE');
  config.usingSimulator = executable === undefined;
  config.scExecutable = path.resolve(executable ?? BUNDLED_SIMULATOR);
  config.licenseFile = read.string('SC_LICENSE_FILE');
  config.license = read.string('SC_LICENSE');
  if (config.licenseFile && config.license) {
    read.problems.push(
      'SC_LICENSE_FILE and SC_LICENSE are both set: set only one (the file is preferred: a key on the command line shows in ps)',
    );
  } else if (!config.licenseFile && !config.license) {
    if (config.usingSimulator) config.licenseFile = SIMULATOR_DUMMY_LICENSE;
    else read.problems.push('SC_LICENSE_FILE (preferred) or SC_LICENSE is required when SC_EXECUTABLE is set');
  }
  if (config.licenseFile) config.licenseFile = path.resolve(config.licenseFile);
  const keyProblem = config.license === undefined ? undefined : argvValueProblem(config.license);
  if (keyProblem) read.problems.push(`SC_LICENSE ${keyProblem}: it is passed to the servers as --license`);

  config.modelDirs = read.list('SC_MODEL_DIRS', ':').map((dir) => path.resolve(dir));
  if (config.modelDirs.length === 0 && config.usingSimulator) config.modelDirs = [SIMULATOR_SAMPLE_MODELS];
  const badDir = config.modelDirs.find((dir) => dir.includes(';'));
  if (badDir) read.problems.push(`SC_MODEL_DIRS entries may not contain ';', got ${JSON.stringify(badDir)}`);
  const roots = read.list('SC_ALLOWED_MODEL_ROOTS', ':').map((dir) => path.resolve(dir));
  config.allowedModelRoots = roots.length > 0 ? roots : [...config.modelDirs];
  const workspace = read.string('SC_WORKSPACE_DIR');
  config.workspaceDir = workspace ? path.resolve(workspace) : undefined;
  const stateDir = read.string('SC_STATE_DIR');
  // An ephemeral PORT (0) names no stable instance, so without an explicit SC_STATE_DIR nothing is kept.
  config.stateDirIsDefault = !stateDir && config.port !== 0;
  if (stateDir) config.stateDir = path.resolve(stateDir);
  else if (config.stateDirIsDefault) config.stateDir = path.join(os.tmpdir(), `sc-spawner-${config.port}`);
  config.extraArgs = parseExtraArgs(read);
  config.serversUseTls = parseArgv(config.extraArgs).sslCertificateFile !== undefined;

  config.maxSpawns = read.int('SC_MAX_SPAWNS', 32, 1, 10000);
  config.portBase = read.int('SC_PORT_BASE', 11000, 1, 65535);
  config.portCount = read.int('SC_PORT_COUNT', 2 * config.maxSpawns, 1, 65535);
  if (config.portBase + config.portCount - 1 > 65535) {
    read.problems.push(
      `SC_PORT_BASE + SC_PORT_COUNT - 1 must not exceed 65535 (got ${config.portBase} + ${config.portCount} - 1)`,
    );
  }
  if (config.port >= config.portBase && config.port < config.portBase + config.portCount) {
    read.problems.push(
      `PORT ${config.port} lies inside the WebSocket port range SC_PORT_BASE..SC_PORT_BASE+SC_PORT_COUNT-1`,
    );
  }

  const agent = config.agentCheckPort;
  if (agent !== undefined && agent >= config.portBase && agent < config.portBase + config.portCount) {
    read.problems.push(
      `AGENT_CHECK_PORT ${agent} lies inside the WebSocket port range SC_PORT_BASE..SC_PORT_BASE+SC_PORT_COUNT-1`,
    );
  }

  config.livelinessIntervalS = read.seconds('SC_LIVELINESS_INTERVAL_S', 5);
  config.initialUseDurationS = read.seconds('SC_INITIAL_USE_DURATION_S', 60);
  config.readyTimeoutS = read.seconds('SPAWN_READY_TIMEOUT_S', 30);
  config.pingTimeoutS = read.seconds('PING_TIMEOUT_S', 3 * config.livelinessIntervalS + 2);
  if (config.pingTimeoutS <= config.livelinessIntervalS) {
    read.problems.push(
      `PING_TIMEOUT_S (${config.pingTimeoutS}) must be longer than SC_LIVELINESS_INTERVAL_S (${config.livelinessIntervalS}), or every server would be killed between two pings`,
    );
  }
  config.killGraceS = read.seconds('KILL_GRACE_S', 5);
  config.sweepIntervalMs = read.int('SWEEP_INTERVAL_MS', 1000, 10, 60000);

  config.csrEnabled = read.bool('CSR_ENABLED', true);
  config.ssrEnabled = read.bool('SSR_ENABLED', true);
  config.ssrDisplay = read.string('DISPLAY') ?? ':0';
  config.ssrEgl = read.bool('SC_SSR_EGL', false);
  const gpu = read.raw('SC_SSR_GPU_INDEX');
  config.ssrGpuIndex = gpu === undefined ? undefined : read.int('SC_SSR_GPU_INDEX', 0, 0, 1024);
  const gpuCount = read.raw('SC_SSR_GPU_COUNT');
  config.ssrGpuCount = gpuCount === undefined ? undefined : read.int('SC_SSR_GPU_COUNT', 1, 1, 1024);
  if (gpu !== undefined && gpuCount !== undefined) {
    read.problems.push(
      'SC_SSR_GPU_INDEX and SC_SSR_GPU_COUNT are both set: set SC_SSR_GPU_INDEX to pin every SSR server to one GPU, or SC_SSR_GPU_COUNT to spread them over several',
    );
  }
  config.spawnOnConnect = read.bool('SPAWN_ON_CONNECT', true);

  parseWarmPool(read, config);

  config.childNice = read.int('SC_NICE', 10, 0, 19);
  config.bodyLimitBytes = parseBodyLimit(read);
  config.childEnv = read.list('SC_CHILD_ENV', ',').flatMap((item) => item.split(/\s+/).filter(Boolean));
  // Last: every other setting has been read, so the names of all of them are known.
  config.settingNames = new Set([...read.names].filter((name) => name !== 'DISPLAY'));
  for (const entry of config.childEnv) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*\*?$/.test(entry)) {
      read.problems.push(
        `SC_CHILD_ENV entries must be variable names, or a name prefix ending in '*' (e.g. MY_VENDOR_*), got ${JSON.stringify(entry)}`,
      );
    } else if (config.settingNames.has(entry)) {
      read.problems.push(
        `SC_CHILD_ENV may not pass ${entry} on: it is a setting of this service, never given to a server`,
      );
    }
  }

  config.settings = [...read.seen].map(([name, { value, fallback }]) => ({
    name,
    value: SECRET_SETTINGS.has(name) && value !== undefined ? '***' : (value ?? fallbackText(fallback)),
    source: value === undefined ? 'default' : fromFile[name] ? `Config.js ${fromFile[name]}` : 'env',
  }));
  return { config, problems: read.problems };
}

const BODY_LIMIT_MIN = 1024;
const BODY_LIMIT_MAX = 16 * 1024 * 1024;

/** BODY_LIMIT: bytes, or a number with kb or mb (1024-based). */
function parseBodyLimit(read: EnvReader): number {
  const raw = read.raw('BODY_LIMIT');
  if (raw === undefined) return 64 * 1024;
  const match = /^(\d+)\s*(b|kb|mb)?$/i.exec(raw);
  const unit = { b: 1, kb: 1024, mb: 1024 * 1024 }[(match?.[2] ?? 'b').toLowerCase() as 'b' | 'kb' | 'mb'];
  const bytes = match ? Number(match[1]) * unit : NaN;
  if (!(bytes >= BODY_LIMIT_MIN && bytes <= BODY_LIMIT_MAX)) {
    read.problems.push(
      `BODY_LIMIT must be a size from 1kb to 16mb (e.g. 65536, 64kb, 1mb), got ${JSON.stringify(raw)}`,
    );
    return 64 * 1024;
  }
  return bytes;
}

function parseWarmPool(read: EnvReader, config: AppConfig): void {
  config.warmPool = {
    csr: read.int('SC_WARM_POOL_CSR', 0, 0, 10000),
    ssr: read.int('SC_WARM_POOL_SSR', 0, 0, 10000),
  };
  config.warmMaxAgeS = read.seconds('SC_WARM_MAX_AGE_S', 600);
  const { csr, ssr } = config.warmPool;
  if (csr + ssr > config.maxSpawns) {
    read.problems.push(
      `SC_WARM_POOL_CSR + SC_WARM_POOL_SSR (${csr} + ${ssr}) must not exceed SC_MAX_SPAWNS (${config.maxSpawns}): warm servers hold spawn slots`,
    );
  }
  if (csr > 0 && !config.csrEnabled) read.problems.push('SC_WARM_POOL_CSR must be 0 when CSR_ENABLED=false');
  if (ssr > 0 && !config.ssrEnabled) read.problems.push('SC_WARM_POOL_SSR must be 0 when SSR_ENABLED=false');
}

/** The start-up report: one `NAME=value (source)` line per setting, the license key hidden. */
export function describeSettings(config: AppConfig): string {
  return config.settings.map(({ name, value, source }) => `  ${name}=${value ?? '(not set)'} (${source})`).join('\n');
}

function fallbackText(fallback: string | number | boolean | undefined): string | undefined {
  return fallback === undefined ? undefined : String(fallback);
}

/** A node name: what the /n/<name>/ prefix, the balancer's server names and the pod names have in common. */
export const NODE_NAME_PATTERN = /^[a-z0-9-]{1,63}$/;

function parseNodeName(read: EnvReader, hostName: string): string {
  const given = read.string('NODE_NAME');
  if (given !== undefined) {
    if (!NODE_NAME_PATTERN.test(given)) {
      read.problems.push(
        `NODE_NAME must be 1 to 63 lower-case letters, digits or '-' ([a-z0-9-]{1,63}), got ${JSON.stringify(given)}`,
      );
    }
    return given;
  }
  const host = hostName.toLowerCase();
  if (!NODE_NAME_PATTERN.test(host)) {
    read.problems.push(
      `NODE_NAME is not set and the host name ${JSON.stringify(host)} is not a valid node name ([a-z0-9-]{1,63}): set NODE_NAME`,
    );
  }
  return host;
}

function parsePublicBaseUrl(read: EnvReader): string | undefined {
  const raw = read.string('PUBLIC_BASE_URL');
  if (raw === undefined) return undefined;
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.search || url.hash || url.username) {
    read.problems.push(
      `PUBLIC_BASE_URL must be an http:// or https:// URL without query, fragment or credentials (e.g. https://viewers.example.com), got ${JSON.stringify(raw)}`,
    );
    return undefined;
  }
  return url.href.replace(/\/+$/, '');
}

/** API keys shorter than this are refused: a key is a secret, not a password someone types. */
export const MIN_API_KEY_LENGTH = 16;

function isOrigin(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === value.replace(/\/$/, '');
  } catch {
    return false;
  }
}

const RATE_UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `30/60s`: 30 requests per 60 seconds (units ms, s, m, h; s when none). `off` or unset: no limit. */
function parseRateLimit(read: EnvReader): { limit: number; ttlMs: number } | undefined {
  const raw = read.raw('SPAWN_RATE_LIMIT');
  if (raw === undefined || raw.toLowerCase() === 'off') return undefined;
  const match = /^(\d+)\s*\/\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/i.exec(raw);
  const limit = match ? Number(match[1]) : NaN;
  const ttlMs = match ? Number(match[2]) * RATE_UNITS_MS[(match[3] ?? 's').toLowerCase()] : NaN;
  if (!(limit >= 1 && limit <= 1_000_000) || !(ttlMs >= 100 && ttlMs <= 86_400_000)) {
    read.problems.push(
      `SPAWN_RATE_LIMIT must be <requests>/<period> such as 30/60s (period in ms, s, m or h, from 100 ms to 24 h; requests from 1), or off; got ${JSON.stringify(raw)}`,
    );
    return undefined;
  }
  return { limit, ttlMs: Math.round(ttlMs) };
}

function parseExtraArgs(read: EnvReader): string[] {
  const raw = read.raw('SC_EXTRA_ARGS');
  if (raw === undefined) return [];
  let args: string[];
  if (raw.startsWith('[')) {
    try {
      const parsed: unknown = JSON.parse(raw);
      if (!Array.isArray(parsed) || !parsed.every((a) => typeof a === 'string'))
        throw new Error('not an array of strings');
      args = parsed;
    } catch {
      read.problems.push('SC_EXTRA_ARGS must be space-separated options, or a JSON array of strings');
      return [];
    }
  } else {
    args = raw.split(/\s+/);
  }
  try {
    parseArgv(args);
  } catch (error) {
    const known = OPTION_SPECS.map((s) => s.flag).filter((f) => !MANAGED_FLAGS.has(f));
    read.problems.push(`SC_EXTRA_ARGS: ${(error as ArgvError).message}; allowed options: ${known.join(' ')}`);
    return [];
  }
  const managed = args.map((a) => a.split('=')[0]).find((flag) => MANAGED_FLAGS.has(flag));
  if (managed) read.problems.push(`SC_EXTRA_ARGS may not set ${managed}: the service sets it for each spawn`);
  return args;
}

import * as os from 'os';
import * as path from 'path';
import { argvValueProblem, parseArgv } from '@app/sc-protocol';
import { AppConfig, ConfigError, LOG_LEVELS } from './app-config.model';
import { BUNDLED_SIMULATOR, SIMULATOR_DUMMY_LICENSE, SIMULATOR_SAMPLE_MODELS } from './bundled-files';
import { Env, EnvReader } from './env-reader';
import {
  isOrigin,
  MIN_API_KEY_LENGTH,
  parseBodyLimit,
  parseExtraArgs,
  parseNodeName,
  parsePublicBaseUrl,
  parseRateLimit,
  parseServerPriority,
  parseWarmPool,
} from './setting-parsers';

export * from './app-config.model';
export { BUNDLED_SIMULATOR, SIMULATOR_DUMMY_LICENSE, SIMULATOR_SAMPLE_MODELS };
export { MIN_API_KEY_LENGTH, NODE_NAME_PATTERN } from './setting-parsers';

const SECRET_SETTINGS = new Set(['SC_LICENSE']);

/** One setting as the service runs with it, and where its value came from. */

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
  parseServerPriority(read, config);
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

/** The start-up report: one `NAME=value (source)` line per setting, the license key hidden. */
export function describeSettings(config: AppConfig): string {
  return config.settings.map(({ name, value, source }) => `  ${name}=${value ?? '(not set)'} (${source})`).join('\n');
}

function fallbackText(fallback: string | number | boolean | undefined): string | undefined {
  return fallback === undefined ? undefined : String(fallback);
}

import * as os from 'os';
import { AppConfig, ConfigError } from './app-config.model';
import { BUNDLED_SIMULATOR, SIMULATOR_DUMMY_LICENSE, SIMULATOR_SAMPLE_MODELS } from './bundled-files';
import { Env, EnvReader } from './env-reader';
import { readAccess } from './sections/access.section';
import { readCapacity } from './sections/capacity.section';
import { readCluster } from './sections/cluster.section';
import { readEdge } from './sections/edge.section';
import { readListener } from './sections/listener.section';
import { readRendering } from './sections/rendering.section';
import { readScaleOut } from './sections/scale-out.section';
import { readServerResources } from './sections/server-resources.section';
import { readChildEnv, readServers } from './sections/servers.section';
import { readSessionLimits } from './sections/session-limits.section';
import { readTiming } from './sections/timing.section';
import { readWarmPool } from './sections/warm-pool.section';

export * from './app-config.model';
export { BUNDLED_SIMULATOR, SIMULATOR_DUMMY_LICENSE, SIMULATOR_SAMPLE_MODELS };
export { isUsableApiKey, MIN_API_KEY_LENGTH, NODE_NAME_PATTERN } from './setting-parsers';

/** Shown as `***` in the effective settings: CLUSTER_KEY opens every route of every node that has keys. */
const SECRET_SETTINGS = new Set(['SC_LICENSE', 'API_KEYS', 'CLUSTER_KEY']);

/** Whether a setting's value is a secret (never logged; a file that holds it should not be readable by all). */
export function isSecretSetting(name: string): boolean {
  return SECRET_SETTINGS.has(name);
}

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
  const listener = readListener(read);
  const access = readAccess(read);
  const scaleOut = readScaleOut(read, hostName, listener);
  const servers = readServers(read, listener, env);
  const capacity = readCapacity(read, { port: listener.port, agentCheckPort: scaleOut.agentCheckPort });
  const timing = readTiming(read);
  const rendering = readRendering(read);
  const warmPool = readWarmPool(read, { ...capacity, ...rendering });
  read.string('HOOPS_CONFIG'); // read by loadAppConfig before the rest; named here as a setting of the service
  const serverResources = readServerResources(read);
  const cluster = readCluster(read, listener);
  const edge = readEdge(read, timing);
  const sessionLimits = readSessionLimits(read);
  // Last: every other setting has been read, so the names of all of them are known.
  const childEnv = readChildEnv(read);
  const sections = [listener, access, scaleOut, servers, capacity, timing, rendering, warmPool];
  Object.assign(config, ...sections, serverResources, cluster, edge, sessionLimits, childEnv);

  const derived = derivedDefaults(config);
  config.settings = [...read.seen].map(([name, { value, fallback }]) => ({
    name,
    value:
      SECRET_SETTINGS.has(name) && value !== undefined ? '***' : (value ?? fallbackText(fallback) ?? derived[name]),
    source: value === undefined ? 'default' : fromFile[name] ? `Config.js ${fromFile[name]}` : 'env',
  }));
  return { config, problems: read.problems };
}

/** The start-up report: one `NAME=value (source)` line per setting, the license key hidden. */
export function describeSettings(config: AppConfig): string {
  return config.settings.map(({ name, value, source }) => `  ${name}=${value ?? '(not set)'} (${source})`).join('\n');
}

/** Defaults that depend on other settings or on the machine, as the start-up report shows them. */
function derivedDefaults(config: AppConfig): Record<string, string | undefined> {
  const kib = config.bodyLimitBytes / 1024;
  return {
    HOST: config.host,
    NODE_NAME: config.nodeName,
    SC_STATE_DIR: config.stateDir,
    BODY_LIMIT: Number.isInteger(kib) ? `${kib}kb` : String(config.bodyLimitBytes),
    DISPLAY: config.ssrDisplay,
    SC_EXECUTABLE: config.scExecutable,
    SC_LICENSE_FILE: config.licenseFile,
    SC_MODEL_DIRS: config.modelDirs.join(':') || undefined,
    SC_ALLOWED_MODEL_ROOTS: config.allowedModelRoots.join(':') || undefined,
  };
}

function fallbackText(fallback: string | number | boolean | undefined): string | undefined {
  return fallback === undefined ? undefined : String(fallback);
}

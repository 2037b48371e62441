import * as path from 'path';

/** What a HOOPS Server configuration file becomes here: our settings, where each came from, and what did not map. */
export interface HoopsConfigMapping {
  /** Our environment settings (strings, as the environment would hold them). */
  env: Record<string, string>;
  /** For each of our settings in `env`, the Config.js setting(s) it came from. */
  sources: Record<string, string>;
  /** One line per Config.js setting that has no equivalent (or is only partly honoured). */
  warnings: string[];
  /** Values of the wrong type, or that cannot be expressed here: start-up stops on these. */
  problems: string[];
}

/** Config.js settings this service has nothing for, with what to do instead when there is something to say. */
const NO_EQUIVALENT_HINTS: Record<string, string> = {
  fileServerPort: 'this service has no file server; serve the viewer files from your web server',
  sslEnableSpawnServer:
    'this service speaks plain HTTP; terminate TLS in front of it (HAProxy, nginx) and set PUBLIC_SCHEME=wss or TRUST_PROXY=true',
};

const HANDLED = new Set([
  'spawnServerPort',
  'publicHostname',
  'spawnMaxSpawnCount',
  'spawnWebsocketPortsBegin',
  'spawnLivelinessReportIntervalTime',
  'spawnInitialUseDuration',
  'csrEnabled',
  'ssrEnabled',
  'ssrGpuCount',
  'ssrUseEgl',
  'communicatorDir',
  'streamCacheExeFile',
  'modelDirs',
  'workspaceDir',
  'licenseFile',
  'license',
  'spawnServerAccessControlAllowOriginHeader',
  'sslCertificateFile',
  'sslPrivateKeyFile',
  'sslEnableScServer',
]);

/**
 * Maps a HOOPS Server configuration object (as its Config.js exports it) to this service's settings, resolving
 * paths as the HOOPS Server does: `~/` is the home folder; `communicatorDir` (the package root) is relative to
 * the folder holding the file; the executable, model folders, workspace, license file and SSL files are relative
 * to `communicatorDir`; `streamCacheExeFile: null` is the package's own `server/bin/linux64/ts3d_sc_server`.
 * Pure: reads nothing, so every rule is unit-tested.
 */
export function hoopsConfigToEnv(
  config: Readonly<Record<string, unknown>>,
  configFilePath: string,
  homeDir: string,
): HoopsConfigMapping {
  const out: HoopsConfigMapping = { env: {}, sources: {}, warnings: [], problems: [] };
  const set = (name: string, value: string, from: string): void => {
    out.env[name] = value;
    out.sources[name] = from;
  };
  const has = (key: string): boolean => config[key] !== undefined && config[key] !== null && config[key] !== '';
  const expectType = (key: string, type: 'number' | 'string' | 'boolean'): boolean => {
    if (!has(key)) return false;
    if (typeof config[key] === type) return true;
    out.problems.push(`${key} must be a ${type}, got ${JSON.stringify(config[key])}`);
    return false;
  };
  const expandHome = (p: string): string =>
    p === '~' ? homeDir : p.startsWith('~/') ? path.join(homeDir, p.slice(2)) : p;

  let base = path.dirname(configFilePath);
  if (expectType('communicatorDir', 'string')) {
    base = path.resolve(base, expandHome(config.communicatorDir as string));
  } else if (!has('communicatorDir')) {
    out.warnings.push(`communicatorDir is not set: relative paths are resolved from ${base}, the file's folder`);
  }
  const resolvePath = (p: string): string => path.resolve(base, expandHome(p));
  const pathSetting = (key: string, name: string): void => {
    if (expectType(key, 'string')) set(name, resolvePath(config[key] as string), key);
  };

  if (expectType('spawnServerPort', 'number')) set('PORT', String(config.spawnServerPort), 'spawnServerPort');
  if (expectType('publicHostname', 'string')) set('PUBLIC_HOSTNAME', config.publicHostname as string, 'publicHostname');
  if (expectType('spawnMaxSpawnCount', 'number')) {
    set('SC_MAX_SPAWNS', String(config.spawnMaxSpawnCount), 'spawnMaxSpawnCount');
    // The HOOPS Server's port range is exactly that many ports from spawnWebsocketPortsBegin (firewalls open just those).
    set('SC_PORT_COUNT', String(config.spawnMaxSpawnCount), 'spawnMaxSpawnCount');
  }
  if (expectType('spawnWebsocketPortsBegin', 'number'))
    set('SC_PORT_BASE', String(config.spawnWebsocketPortsBegin), 'spawnWebsocketPortsBegin');
  // Both are seconds in the HOOPS Server too (its sweep: suspect after 2·I+2 s; initial use 60 s).
  if (expectType('spawnLivelinessReportIntervalTime', 'number'))
    set(
      'SC_LIVELINESS_INTERVAL_S',
      String(config.spawnLivelinessReportIntervalTime),
      'spawnLivelinessReportIntervalTime',
    );
  if (expectType('spawnInitialUseDuration', 'number'))
    set('SC_INITIAL_USE_DURATION_S', String(config.spawnInitialUseDuration), 'spawnInitialUseDuration');
  if (expectType('csrEnabled', 'boolean')) set('CSR_ENABLED', String(config.csrEnabled), 'csrEnabled');
  if (expectType('ssrEnabled', 'boolean')) set('SSR_ENABLED', String(config.ssrEnabled), 'ssrEnabled');
  if (expectType('ssrGpuCount', 'number')) set('SC_SSR_GPU_COUNT', String(config.ssrGpuCount), 'ssrGpuCount');
  if (expectType('ssrUseEgl', 'boolean')) set('SC_SSR_EGL', String(config.ssrUseEgl), 'ssrUseEgl');

  if (has('streamCacheExeFile')) pathSetting('streamCacheExeFile', 'SC_EXECUTABLE');
  else
    set(
      'SC_EXECUTABLE',
      path.join(base, 'server', 'bin', 'linux64', 'ts3d_sc_server'),
      "streamCacheExeFile (null: the package's own)",
    );

  if (has('modelDirs')) {
    const dirs = config.modelDirs;
    if (!Array.isArray(dirs) || !dirs.every((d) => typeof d === 'string' && d !== '')) {
      out.problems.push(`modelDirs must be an array of folder paths, got ${JSON.stringify(dirs)}`);
    } else {
      const resolved = dirs.map(resolvePath);
      const bad = resolved.find((d) => d.includes(':') || d.includes(';'));
      if (bad)
        out.problems.push(
          `modelDirs entry ${JSON.stringify(bad)} contains ':' or ';', which a folder list here cannot hold`,
        );
      else set('SC_MODEL_DIRS', resolved.join(':'), 'modelDirs');
    }
  }
  pathSetting('workspaceDir', 'SC_WORKSPACE_DIR');
  if (has('licenseFile') && has('license')) {
    out.problems.push('licenseFile and license are both set: set exactly one (the file is preferred)');
  } else {
    pathSetting('licenseFile', 'SC_LICENSE_FILE');
    if (expectType('license', 'string')) set('SC_LICENSE', config.license as string, 'license');
  }
  if (expectType('spawnServerAccessControlAllowOriginHeader', 'string'))
    set(
      'CORS_ORIGINS',
      config.spawnServerAccessControlAllowOriginHeader as string,
      'spawnServerAccessControlAllowOriginHeader',
    );

  mapServerTls(config, has, expectType, resolvePath, set, out);

  for (const key of Object.keys(config)) {
    if (HANDLED.has(key)) continue;
    const value = config[key];
    // A setting that is off or empty asks for nothing, so nothing is missing.
    if (value === null || value === undefined || value === false || value === '') continue;
    const hint =
      NO_EQUIVALENT_HINTS[key] ?? (key.startsWith('log') ? 'this service logs to its standard output' : undefined);
    out.warnings.push(`${key} has no equivalent here and is ignored${hint ? `: ${hint}` : ''}`);
  }
  return out;
}

/** The Stream Cache Servers serve wss:// with the certificate when sslEnableScServer is true (or unset with both files given). */
function mapServerTls(
  config: Readonly<Record<string, unknown>>,
  has: (key: string) => boolean,
  expectType: (key: string, type: 'number' | 'string' | 'boolean') => boolean,
  resolvePath: (p: string) => string,
  set: (name: string, value: string, from: string) => void,
  out: HoopsConfigMapping,
): void {
  const enabledKey = 'sslEnableScServer';
  const explicit = expectType(enabledKey, 'boolean') ? (config[enabledKey] as boolean) : undefined;
  const certificate = expectType('sslCertificateFile', 'string')
    ? resolvePath(config.sslCertificateFile as string)
    : undefined;
  const privateKey = expectType('sslPrivateKeyFile', 'string')
    ? resolvePath(config.sslPrivateKeyFile as string)
    : undefined;
  const enabled = explicit ?? (certificate !== undefined && privateKey !== undefined);
  if (!enabled) return;
  if (certificate === undefined || privateKey === undefined) {
    if (has(enabledKey))
      out.problems.push('sslEnableScServer is true but sslCertificateFile or sslPrivateKeyFile is not set');
    return;
  }
  set(
    'SC_EXTRA_ARGS',
    JSON.stringify(['--ssl-certificate-file', certificate, '--ssl-private-key-file', privateKey]),
    'sslCertificateFile, sslPrivateKeyFile',
  );
}

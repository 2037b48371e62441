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
export const NO_EQUIVALENT_HINTS: Record<string, string> = {
  fileServerPort: 'this service has no file server; serve the viewer files from your web server',
  sslEnableSpawnServer:
    'this service speaks plain HTTP; terminate TLS in front of it (HAProxy, nginx) and set PUBLIC_SCHEME=wss or TRUST_PROXY=true',
};

export const HANDLED = new Set([
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

/** Config.js settings that map one to one onto ours, in the order they are read: [Config.js key, its type, our setting]. */
export const SCALAR_SETTINGS: ReadonlyArray<readonly [string, 'number' | 'string' | 'boolean', string]> = [
  ['spawnServerPort', 'number', 'PORT'],
  ['publicHostname', 'string', 'PUBLIC_HOSTNAME'],
  ['spawnWebsocketPortsBegin', 'number', 'SC_PORT_BASE'],
  // Both are seconds in the HOOPS Server too (its sweep: suspect after 2·I+2 s; initial use 60 s).
  ['spawnLivelinessReportIntervalTime', 'number', 'SC_LIVELINESS_INTERVAL_S'],
  ['spawnInitialUseDuration', 'number', 'SC_INITIAL_USE_DURATION_S'],
  ['csrEnabled', 'boolean', 'CSR_ENABLED'],
  ['ssrEnabled', 'boolean', 'SSR_ENABLED'],
  ['ssrGpuCount', 'number', 'SC_SSR_GPU_COUNT'],
  ['ssrUseEgl', 'boolean', 'SC_SSR_EGL'],
  ['spawnServerAccessControlAllowOriginHeader', 'string', 'CORS_ORIGINS'],
];

import * as path from 'path';
import { HANDLED, HoopsConfigMapping, NO_EQUIVALENT_HINTS, SCALAR_SETTINGS } from './hoops-config';

type ValueType = 'number' | 'string' | 'boolean';

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
  return new HoopsConfigMapper(config, configFilePath, homeDir).map();
}

class HoopsConfigMapper {
  private readonly out: HoopsConfigMapping = { env: {}, sources: {}, warnings: [], problems: [] };
  private base: string;

  constructor(
    private readonly config: Readonly<Record<string, unknown>>,
    configFilePath: string,
    private readonly homeDir: string,
  ) {
    this.base = path.dirname(configFilePath);
  }

  map(): HoopsConfigMapping {
    this.mapCommunicatorDir();
    for (const [key, type, name] of SCALAR_SETTINGS)
      if (this.expect(key, type)) this.set(name, String(this.config[key]), key);
    if (this.expect('spawnMaxSpawnCount', 'number')) {
      this.set('SC_MAX_SPAWNS', String(this.config.spawnMaxSpawnCount), 'spawnMaxSpawnCount');
      // The HOOPS Server's port range is exactly that many ports from spawnWebsocketPortsBegin (firewalls open just those).
      this.set('SC_PORT_COUNT', String(this.config.spawnMaxSpawnCount), 'spawnMaxSpawnCount');
    }
    this.mapExecutable();
    this.mapModelDirs();
    this.pathSetting('workspaceDir', 'SC_WORKSPACE_DIR');
    this.mapLicense();
    this.mapServerTls();
    this.warnUnmapped();
    return this.out;
  }

  private set(name: string, value: string, from: string): void {
    this.out.env[name] = value;
    this.out.sources[name] = from;
  }

  private has(key: string): boolean {
    const value = this.config[key];
    return value !== undefined && value !== null && value !== '';
  }

  private expect(key: string, type: ValueType): boolean {
    if (!this.has(key)) return false;
    if (typeof this.config[key] === type) return true;
    this.out.problems.push(`${key} must be a ${type}, got ${JSON.stringify(this.config[key])}`);
    return false;
  }

  private expandHome(p: string): string {
    if (p === '~') return this.homeDir;
    return p.startsWith('~/') ? path.join(this.homeDir, p.slice(2)) : p;
  }

  private resolvePath(p: string): string {
    return path.resolve(this.base, this.expandHome(p));
  }

  private pathSetting(key: string, name: string): void {
    if (this.expect(key, 'string')) this.set(name, this.resolvePath(this.config[key] as string), key);
  }

  private mapCommunicatorDir(): void {
    if (this.expect('communicatorDir', 'string')) {
      this.base = path.resolve(this.base, this.expandHome(this.config.communicatorDir as string));
    } else if (!this.has('communicatorDir')) {
      this.out.warnings.push(
        `communicatorDir is not set: relative paths are resolved from ${this.base}, the file's folder`,
      );
    }
  }

  private mapExecutable(): void {
    if (this.has('streamCacheExeFile')) return this.pathSetting('streamCacheExeFile', 'SC_EXECUTABLE');
    const own = path.join(this.base, 'server', 'bin', 'linux64', 'ts3d_sc_server');
    this.set('SC_EXECUTABLE', own, "streamCacheExeFile (null: the package's own)");
  }

  private mapModelDirs(): void {
    if (!this.has('modelDirs')) return;
    const dirs = this.config.modelDirs;
    if (!Array.isArray(dirs) || !dirs.every((d) => typeof d === 'string' && d !== '')) {
      this.out.problems.push(`modelDirs must be an array of folder paths, got ${JSON.stringify(dirs)}`);
      return;
    }
    const resolved = dirs.map((dir: string) => this.resolvePath(dir));
    const bad = resolved.find((d) => d.includes(':') || d.includes(';'));
    if (bad) {
      this.out.problems.push(
        `modelDirs entry ${JSON.stringify(bad)} contains ':' or ';', which a folder list here cannot hold`,
      );
    } else this.set('SC_MODEL_DIRS', resolved.join(':'), 'modelDirs');
  }

  private mapLicense(): void {
    if (this.has('licenseFile') && this.has('license')) {
      this.out.problems.push('licenseFile and license are both set: set exactly one (the file is preferred)');
      return;
    }
    this.pathSetting('licenseFile', 'SC_LICENSE_FILE');
    if (this.expect('license', 'string')) this.set('SC_LICENSE', this.config.license as string, 'license');
  }

  /** The Stream Cache Servers serve wss:// with the certificate when sslEnableScServer is true (or unset with both files given). */
  private mapServerTls(): void {
    const enabledKey = 'sslEnableScServer';
    const explicit = this.expect(enabledKey, 'boolean') ? (this.config[enabledKey] as boolean) : undefined;
    const file = (key: string) =>
      this.expect(key, 'string') ? this.resolvePath(this.config[key] as string) : undefined;
    const certificate = file('sslCertificateFile');
    const privateKey = file('sslPrivateKeyFile');
    const enabled = explicit ?? (certificate !== undefined && privateKey !== undefined);
    if (!enabled) return;
    if (certificate === undefined || privateKey === undefined) {
      if (this.has(enabledKey))
        this.out.problems.push('sslEnableScServer is true but sslCertificateFile or sslPrivateKeyFile is not set');
      return;
    }
    const args = ['--ssl-certificate-file', certificate, '--ssl-private-key-file', privateKey];
    this.set('SC_EXTRA_ARGS', JSON.stringify(args), 'sslCertificateFile, sslPrivateKeyFile');
  }

  private warnUnmapped(): void {
    for (const key of Object.keys(this.config)) {
      if (HANDLED.has(key)) continue;
      const value = this.config[key];
      // A setting that is off or empty asks for nothing, so nothing is missing.
      if (value === null || value === undefined || value === false || value === '') continue;
      const hint =
        NO_EQUIVALENT_HINTS[key] ?? (key.startsWith('log') ? 'this service logs to its standard output' : undefined);
      this.out.warnings.push(`${key} has no equivalent here and is ignored${hint ? `: ${hint}` : ''}`);
    }
  }
}

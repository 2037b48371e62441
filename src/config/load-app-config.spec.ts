import { FakeFileSystem } from '../../test/fakes';
import { ConfigError, describeSettings } from './app-config';
import { loadAppConfig } from './load-app-config';

const FILE = '/opt/hoops/server/node/Config.js';
const EXE = '/opt/hoops/server/bin/linux64/ts3d_sc_server';

function filesWith(source: string, executable = true): FakeFileSystem {
  const files = new FakeFileSystem();
  files.files.set(FILE, source);
  if (executable) files.executables.add(EXE);
  return files;
}

const SHIPPED_LIKE = `const { LogLevel } = require("../server/node/lib/SpawnerTypes");
module.exports = {
  spawnServerPort: 11182, spawnMaxSpawnCount: 6, spawnWebsocketPortsBegin: 12000,
  spawnLivelinessReportIntervalTime: 4, spawnInitialUseDuration: 30,
  csrEnabled: true, ssrEnabled: false, communicatorDir: "../../", streamCacheExeFile: null,
  modelDirs: ["models"], workspaceDir: "~/ws", licenseFile: null, license: "KEY-abc123",
  logLevel: LogLevel.Info,
};`;

function problemsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('no ConfigError');
}

describe('loadAppConfig', () => {
  it('without HOOPS_CONFIG: the environment alone, every setting reported as env or default', () => {
    const config = loadAppConfig({ SC_MAX_SPAWNS: '3' }, new FakeFileSystem(), '/home/u');
    expect(config.maxSpawns).toBe(3);
    expect(config.hoopsConfigFile).toBeUndefined();
    expect(config.settings).toEqual(
      expect.arrayContaining([
        { name: 'SC_MAX_SPAWNS', value: '3', source: 'env' },
        { name: 'PORT', value: '11182', source: 'default' },
      ]),
    );
  });

  it('reads the file under the environment: the environment wins, sources say where each setting came from, the key never shows', () => {
    const config = loadAppConfig(
      { HOOPS_CONFIG: FILE, SC_MAX_SPAWNS: '2', SC_PORT_COUNT: '' },
      filesWith(SHIPPED_LIKE),
      '/home/u',
    );
    expect(config).toMatchObject({
      hoopsConfigFile: FILE,
      port: 11182,
      maxSpawns: 2, // env
      portCount: 6, // from spawnMaxSpawnCount (an empty env value does not override)
      portBase: 12000,
      livelinessIntervalS: 4,
      initialUseDurationS: 30,
      ssrEnabled: false,
      scExecutable: EXE,
      usingSimulator: false,
      modelDirs: ['/opt/hoops/models'],
      workspaceDir: '/home/u/ws',
      license: 'KEY-abc123',
    });
    expect(config.hoopsConfigWarnings).toEqual([expect.stringMatching(/^logLevel has no equivalent/)]);
    const report = describeSettings(config);
    expect(report).toContain('SC_MAX_SPAWNS=2 (env)');
    expect(report).toContain('SC_PORT_BASE=12000 (Config.js spawnWebsocketPortsBegin)');
    expect(report).toContain('SC_LICENSE=*** (Config.js license)');
    expect(report).toContain('KILL_GRACE_S=5 (default)');
    expect(report).not.toContain('KEY-abc123');
  });

  it('the license given in the environment replaces the file license entirely (no both-set error)', () => {
    const config = loadAppConfig(
      { HOOPS_CONFIG: FILE, SC_LICENSE_FILE: '/etc/lic.txt' },
      filesWith(SHIPPED_LIKE),
      '/h',
    );
    expect(config.licenseFile).toBe('/etc/lic.txt');
    expect(config.license).toBeUndefined();
  });

  it('stops with one clear problem: unreadable file, missing executable, bad values named by their Config.js setting', () => {
    expect(problemsOf(() => loadAppConfig({ HOOPS_CONFIG: '/nope/Config.js' }, new FakeFileSystem(), '/h'))).toEqual([
      expect.stringMatching(/^HOOPS_CONFIG \/nope\/Config\.js cannot be read: ENOENT/),
    ]);
    expect(problemsOf(() => loadAppConfig({ HOOPS_CONFIG: FILE }, filesWith(SHIPPED_LIKE, false), '/h'))).toEqual([
      `HOOPS_CONFIG ${FILE}: the Stream Cache Server ${EXE} (streamCacheExeFile (null: the package's own)) is not an executable file`,
    ]);
    expect(
      problemsOf(() =>
        loadAppConfig(
          { HOOPS_CONFIG: FILE },
          filesWith('module.exports = { communicatorDir: "../../", spawnMaxSpawnCount: 0 };'),
          '/h',
        ),
      ),
    ).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^SC_MAX_SPAWNS must be a whole number from 1 .* \(from spawnMaxSpawnCount in .*Config\.js\)$/,
        ),
      ]),
    );
    expect(problemsOf(() => loadAppConfig({ HOOPS_CONFIG: FILE }, filesWith('throw new Error("x")'), '/h'))).toEqual([
      `HOOPS_CONFIG ${FILE}: evaluating it threw Error: x (line 1)`,
    ]);
  });
});

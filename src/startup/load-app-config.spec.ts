import { FakeFileSystem } from '../../test/fakes';
import { BUNDLED_SIMULATOR, ConfigError, describeSettings, parseAppConfig } from '../config';
import { loadAppConfig } from './load-app-config';

/** A machine with nice and the bundled simulator, as this one has. */
function machineFiles(): FakeFileSystem {
  const files = new FakeFileSystem();
  files.executables.add('/usr/bin/nice').add(BUNDLED_SIMULATOR);
  return files;
}

const HOST_EXE = '/opt/hoops/ts3d_sc_server';

function problemsOf(env: Record<string, string>, files: FakeFileSystem): string[] {
  try {
    loadAppConfig(env, files);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('loadAppConfig', () => {
  let files: FakeFileSystem;
  beforeEach(() => {
    files = new FakeFileSystem();
    files.executables.add(HOST_EXE).add('/usr/bin/nice');
  });

  it('a valid configuration on a machine that has the executable and nice', () => {
    const config = loadAppConfig({ SC_EXECUTABLE: HOST_EXE, SC_LICENSE: 'K' }, files);
    expect(config.scExecutable).toBe(HOST_EXE);
    expect(config.childNice).toBe(10);
  });

  it('refuses an executable this process cannot run, saying why', () => {
    files.executables.delete(HOST_EXE);
    expect(problemsOf({ SC_EXECUTABLE: HOST_EXE, SC_LICENSE: 'K' }, files)).toEqual([
      `SC_EXECUTABLE must be an executable file: ${HOST_EXE} does not exist`,
    ]);
    // parseAppConfig alone stays pure: it does not look at the machine.
    expect(parseAppConfig({ SC_EXECUTABLE: HOST_EXE, SC_LICENSE: 'K' }).scExecutable).toBe(HOST_EXE);
  });

  it('refuses an executable another user could change, naming the setting and where it came from', () => {
    files.untrusted.set(HOST_EXE, 'it is in /opt/hoops, which is writable by group or others without the sticky bit');
    expect(problemsOf({ SC_EXECUTABLE: HOST_EXE, SC_LICENSE: 'K' }, files)).toEqual([
      `SC_EXECUTABLE ${HOST_EXE} could be changed by another user: it is in /opt/hoops, which is writable by group ` +
        'or others without the sticky bit',
    ]);
    // The bundled simulator is the service's own code, as trusted as the service's files beside it.
    files.untrusted.set(BUNDLED_SIMULATOR, 'it is writable by group or others (mode 0775): chmod go-w it');
    files.executables.add(BUNDLED_SIMULATOR);
    expect(loadAppConfig({}, files).scExecutable).toBe(BUNDLED_SIMULATOR);
  });

  it('refuses a workspace another user could change, or one that is missing: the servers start in it', () => {
    files.untrusted.set('/tmp/ws', 'could be changed by another user: /tmp/ws belongs to uid 65534, who may rename');
    expect(problemsOf({ SC_EXECUTABLE: HOST_EXE, SC_LICENSE: 'K', SC_WORKSPACE_DIR: '/tmp/ws' }, files)).toEqual([
      'SC_WORKSPACE_DIR /tmp/ws could be changed by another user: /tmp/ws belongs to uid 65534, who may rename',
    ]);
    files.untrusted.set('/srv/ws', 'does not exist');
    expect(problemsOf({ SC_EXECUTABLE: HOST_EXE, SC_LICENSE: 'K', SC_WORKSPACE_DIR: '/srv/ws' }, files)).toEqual([
      'SC_WORKSPACE_DIR /srv/ws does not exist',
    ]);
  });

  it('names the bundled simulator when SC_EXECUTABLE is not set', () => {
    expect(problemsOf({}, files)[0]).toMatch(
      /^the bundled simulator \(SC_EXECUTABLE is not set\) must be an executable file: .*ts3d_sc_server does not exist$/,
    );
  });

  it('SC_NICE above 0 needs nice; SC_NICE=0 does not', () => {
    files.executables.delete('/usr/bin/nice');
    expect(problemsOf({ SC_EXECUTABLE: HOST_EXE, SC_LICENSE: 'K' }, files)).toEqual([
      "SC_NICE=10 needs coreutils' nice (/usr/bin/nice or /bin/nice), which is missing: install coreutils, or set SC_NICE=0",
    ]);
    files.executables.add('/bin/nice');
    expect(loadAppConfig({ SC_EXECUTABLE: HOST_EXE, SC_LICENSE: 'K' }, files).childNice).toBe(10);
    files.executables.delete('/bin/nice');
    expect(loadAppConfig({ SC_EXECUTABLE: HOST_EXE, SC_LICENSE: 'K', SC_NICE: '0' }, files).childNice).toBe(0);
  });

  it('refuses a license file it cannot read, as the HOOPS Server does (every server would exit 7 otherwise)', () => {
    const env = { SC_EXECUTABLE: HOST_EXE, SC_LICENSE_FILE: '/etc/hoops/license.txt' };
    expect(problemsOf(env, files)).toEqual([
      expect.stringMatching(/^SC_LICENSE_FILE cannot be read: \/etc\/hoops\/license\.txt \(ENOENT/),
    ]);
    files.files.set('/etc/hoops/license.txt', 'LIC\n');
    expect(loadAppConfig(env, files).licenseFile).toBe('/etc/hoops/license.txt');
  });

  it('lists setting problems and host problems together', () => {
    files.executables.delete(HOST_EXE);
    const problems = problemsOf({ SC_EXECUTABLE: HOST_EXE, SC_LICENSE: 'K', SC_MAX_SPAWNS: 'x' }, files);
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^SC_MAX_SPAWNS/);
    expect(problems[1]).toMatch(/^SC_EXECUTABLE/);
  });
});

const FILE = '/opt/hoops/server/node/Config.js';
const EXE = '/opt/hoops/server/bin/linux64/ts3d_sc_server';

function filesWith(source: string, executable = true): FakeFileSystem {
  const files = machineFiles();
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

function problemsOfRun(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('no ConfigError');
}

describe('loadAppConfig with HOOPS_CONFIG', () => {
  it('without HOOPS_CONFIG: the environment alone, every setting reported as env or default', () => {
    const config = loadAppConfig({ SC_MAX_SPAWNS: '3' }, machineFiles(), '/home/u');
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
    const files = filesWith(SHIPPED_LIKE);
    files.files.set('/etc/lic.txt', 'LIC\n');
    const config = loadAppConfig({ HOOPS_CONFIG: FILE, SC_LICENSE_FILE: '/etc/lic.txt' }, files, '/h');
    expect(config.licenseFile).toBe('/etc/lic.txt');
    expect(config.license).toBeUndefined();
  });

  it('stops with one clear problem: unreadable file, missing executable, bad values named by their Config.js setting', () => {
    expect(problemsOfRun(() => loadAppConfig({ HOOPS_CONFIG: '/nope/Config.js' }, machineFiles(), '/h'))).toEqual([
      expect.stringMatching(/^HOOPS_CONFIG \/nope\/Config\.js cannot be read: ENOENT/),
    ]);
    expect(problemsOfRun(() => loadAppConfig({ HOOPS_CONFIG: FILE }, filesWith(SHIPPED_LIKE, false), '/h'))).toEqual([
      `SC_EXECUTABLE must be an executable file: ${EXE} does not exist (from streamCacheExeFile (null: the package's own) in ${FILE})`,
    ]);
    expect(
      problemsOfRun(() =>
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
    const shared = filesWith(SHIPPED_LIKE);
    shared.untrusted.set(EXE, 'it is writable by group or others (mode 0777): chmod go-w it');
    expect(problemsOfRun(() => loadAppConfig({ HOOPS_CONFIG: FILE }, shared, '/h'))).toEqual([
      `SC_EXECUTABLE ${EXE} could be changed by another user: it is writable by group or others (mode 0777): ` +
        `chmod go-w it (from streamCacheExeFile (null: the package's own) in ${FILE})`,
    ]);
    const sharedWorkspace = filesWith(SHIPPED_LIKE);
    sharedWorkspace.untrusted.set('/h/ws', 'does not exist');
    expect(problemsOfRun(() => loadAppConfig({ HOOPS_CONFIG: FILE }, sharedWorkspace, '/h'))).toEqual([
      `SC_WORKSPACE_DIR /h/ws does not exist (from workspaceDir in ${FILE})`,
    ]);
    const unreadable = SHIPPED_LIKE.replace('licenseFile: null, license: "KEY-abc123"', 'licenseFile: "lic.txt"');
    expect(problemsOfRun(() => loadAppConfig({ HOOPS_CONFIG: FILE }, filesWith(unreadable), '/h'))).toEqual([
      expect.stringMatching(/^SC_LICENSE_FILE cannot be read: \/opt\/hoops\/lic\.txt .*\(from licenseFile in .*\)$/),
    ]);
    expect(problemsOfRun(() => loadAppConfig({ HOOPS_CONFIG: FILE }, filesWith('throw new Error("x")'), '/h'))).toEqual(
      [`HOOPS_CONFIG ${FILE}: evaluating it threw Error: x (line 1)`],
    );
  });
});

describe('loadAppConfig and .env', () => {
  const files = machineFiles();

  it('names .env as the source of a bad value and of a setting it gave', () => {
    const names = new Set(['SC_MAX_SPAWNS', 'SC_NICE']);
    const dotEnv = { file: '/srv/app/.env', names, held: names };
    expect(problemsOfRun(() => loadAppConfig({ SC_MAX_SPAWNS: 'lots', SC_NICE: '0' }, files, '/h', dotEnv))).toEqual([
      'SC_MAX_SPAWNS must be a whole number from 1 to 10000, got "lots" (from .env /srv/app/.env)',
    ]);
    const config = loadAppConfig({ SC_MAX_SPAWNS: '3', SC_NICE: '0', PORT: '12000' }, files, '/h', dotEnv);
    const source = (name: string) => config.settings.find((s) => s.name === name)?.source;
    expect([source('SC_MAX_SPAWNS'), source('PORT'), source('KILL_GRACE_S')]).toEqual(['.env', 'env', 'default']);
  });
});

import { existsSync, readFileSync } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ConfigError } from './app-config';
import { evaluateHoopsConfig } from './hoops-config-file';
import { hoopsConfigToEnv } from './hoops-config.mapper';

const FIXTURE = path.resolve(__dirname, '../../test/fixtures/hoops/Config.js');
const PACKAGE = '/opt/hoops';
const CONFIG_FILE = `${PACKAGE}/server/node/Config.js`;
const HOME = '/home/viewer';

function evaluate(source: string): Record<string, unknown> {
  return evaluateHoopsConfig(source, CONFIG_FILE, path.dirname(CONFIG_FILE));
}

function problemOf(source: string): string {
  try {
    evaluate(source);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    const { problems } = error as ConfigError;
    expect(problems).toHaveLength(1);
    return problems[0];
  }
  throw new Error('evaluated without a problem');
}

describe('HOOPS Server configuration file', () => {
  describe('evaluateHoopsConfig', () => {
    it('evaluates a Config.js like the shipped one: its require of SpawnerTypes, enums combined with |, a regular expression', () => {
      const config = evaluate(readFileSync(FIXTURE, 'utf8'));
      expect(config).toMatchObject({
        spawnServerPort: 11182,
        spawnMaxSpawnCount: 4,
        communicatorDir: '../../',
        streamCacheExeFile: null,
        modelDirs: ['quick_start/converted_models/standard/sc_models', '~/extra-models'],
        ipVersion: 0,
        logLevel: 2,
        logSpawnCategories: 3,
        logRestFilterRegex: '/\\/api\\/spawns\\/.*/',
      });
    });

    it.each([
      'require("../server/node/lib/SpawnerTypes")',
      'require("./lib/SpawnerTypes.js")',
      'require("SpawnerTypes")',
      'require("..\\\\lib\\\\SpawnerTypes")',
    ])('%s answers the stand-in enums', (call) => {
      expect(evaluate(`module.exports = { t: ${call}.LogSpawnCategory.All };`)).toEqual({ t: 15 });
    });

    it('provides module, exports, __filename and __dirname; exports.x works as in CommonJS', () => {
      expect(evaluate('exports.file = __filename; exports.dir = __dirname;')).toEqual({
        file: CONFIG_FILE,
        dir: path.dirname(CONFIG_FILE),
      });
    });

    it.each([
      ['fs', 'require("fs")'],
      ['child_process', 'require("child_process").execSync("id")'],
      ['a relative module', 'require("./Other")'],
    ])('refuses to require %s', (_what, code) => {
      expect(problemOf(`module.exports = { x: ${code} };`)).toMatch(
        /threw Error: require\(.*\) is not available: a HOOPS configuration file may only require SpawnerTypes \(line 1\)/,
      );
    });

    it('reaches no process, no eval and nothing of this process through the objects it is given', () => {
      expect(evaluate('module.exports = { p: typeof process, b: typeof Buffer, s: typeof setTimeout };')).toEqual({
        p: 'undefined',
        b: 'undefined',
        s: 'undefined',
      });
      expect(problemOf('module.exports = { p: require.constructor("return process")() };')).toMatch(
        /Code generation from strings disallowed/,
      );
      expect(problemOf('module.exports = { p: eval("1") };')).toMatch(/Code generation from strings disallowed/);
    });

    it.each([
      'globalThis.constructor.constructor("return process")()',
      'this.constructor.constructor("return process")()',
      'Object.getPrototypeOf(globalThis).constructor.constructor("return process")()',
      '__filename.constructor.constructor("return process")()',
      'module.constructor.constructor("return process")()',
      '(() => {}).constructor("return process")()',
    ])('the escape %s finds no way to the host process', (escape) => {
      // The host's Function would run the string and reach process; the context's refuses to compile it.
      const marker = path.join(os.tmpdir(), `sc-escape-${process.pid}-${Math.random()}`);
      const attempt = `${escape}.mainModule.require('fs').writeFileSync(${JSON.stringify(marker)}, 'ran')`;
      expect(problemOf(`module.exports = { p: ${attempt} };`)).toMatch(/Code generation from strings disallowed/);
      expect(existsSync(marker)).toBe(false);
    });

    it('a getter on the global object reaches nothing of this process either', () => {
      expect(
        evaluate('module.exports = { t: typeof Object.getPrototypeOf(globalThis), p: typeof globalThis.process };'),
      ).toEqual({
        t: 'object',
        p: 'undefined',
      });
    });

    it('a syntax error names the line, without a stack', () => {
      const problem = problemOf('module.exports = {\n  spawnServerPort: 11182,\n  oops: ,\n};');
      expect(problem).toMatch(
        /^HOOPS_CONFIG \/opt\/hoops\/server\/node\/Config\.js: not valid JavaScript: SyntaxError: .* \(line 3\)$/,
      );
      expect(problem).not.toMatch(/\n|at /);
    });

    it('a throw is reported with its message and line', () => {
      expect(problemOf('const a = 1;\nthrow new Error("no license here");')).toMatch(
        /evaluating it threw Error: no license here \(line 2\)$/,
      );
    });

    it('an endless loop is stopped by the timeout', () => {
      expect(problemOf('for (;;) {}')).toMatch(/did not finish within \d+ ms/);
      expect(problemOf('module.exports = { get x() { for (;;) {} } };')).toMatch(/did not finish within \d+ ms/);
    });

    it('module.exports must be an object', () => {
      expect(problemOf('module.exports = 42;')).toMatch(/module\.exports must be an object of settings, got number/);
      expect(problemOf('module.exports = [1];')).toMatch(/got array/);
    });
  });

  describe('hoopsConfigToEnv', () => {
    it('maps the shipped settings, resolving paths against communicatorDir (itself from the file folder) and ~/', () => {
      const mapping = hoopsConfigToEnv(evaluate(readFileSync(FIXTURE, 'utf8')), CONFIG_FILE, HOME);
      expect(mapping.problems).toEqual([]);
      expect(mapping.env).toEqual({
        PORT: '11182',
        SC_MAX_SPAWNS: '4',
        SC_PORT_COUNT: '4',
        SC_PORT_BASE: '26900',
        SC_LIVELINESS_INTERVAL_S: '2',
        SC_INITIAL_USE_DURATION_S: '45',
        CSR_ENABLED: 'true',
        SSR_ENABLED: 'true',
        SC_SSR_GPU_COUNT: '2',
        SC_SSR_EGL: 'false',
        SC_EXECUTABLE: `${PACKAGE}/server/bin/linux64/ts3d_sc_server`,
        SC_MODEL_DIRS: `${PACKAGE}/quick_start/converted_models/standard/sc_models:${HOME}/extra-models`,
        SC_WORKSPACE_DIR: `${HOME}/sc_workspace`,
        SC_LICENSE_FILE: `${PACKAGE}/license/license.txt`,
        CORS_ORIGINS: '*',
      });
      expect(mapping.sources).toMatchObject({ PORT: 'spawnServerPort', SC_MODEL_DIRS: 'modelDirs' });
      // One warning per setting with no equivalent; settings that are off or empty need none.
      expect(mapping.warnings).toEqual([
        expect.stringMatching(/^fileServerPort has no equivalent here and is ignored: this service has no file server/),
        expect.stringMatching(/^fileServerStaticDirs has no equivalent/),
        expect.stringMatching(/^ipVersion has no equivalent/),
        expect.stringMatching(/^logLevel has no equivalent.*logs to its standard output/),
        expect.stringMatching(/^logTimeFormat has no equivalent/),
        expect.stringMatching(/^logSpawnCategories has no equivalent/),
        expect.stringMatching(/^logRestFilterRegex has no equivalent/),
      ]);
    });

    it('absolute paths stay; ~ alone is the home folder; an absolute or ~ communicatorDir', () => {
      const mapping = hoopsConfigToEnv(
        {
          communicatorDir: '~/hoops',
          streamCacheExeFile: '/usr/local/bin/ts3d_sc_server',
          modelDirs: ['/srv/models', 'models'],
          workspaceDir: '~',
          license: 'KEY-1',
        },
        CONFIG_FILE,
        HOME,
      );
      expect(mapping.env).toMatchObject({
        SC_EXECUTABLE: '/usr/local/bin/ts3d_sc_server',
        SC_MODEL_DIRS: `/srv/models:${HOME}/hoops/models`,
        SC_WORKSPACE_DIR: HOME,
        SC_LICENSE: 'KEY-1',
      });
      expect(mapping.env.SC_LICENSE_FILE).toBeUndefined();
      expect(
        hoopsConfigToEnv({ communicatorDir: '/opt/x', streamCacheExeFile: 'bin/sc' }, CONFIG_FILE, HOME).env,
      ).toMatchObject({
        SC_EXECUTABLE: '/opt/x/bin/sc',
      });
    });

    it('without communicatorDir, relative paths are resolved from the file folder, with a warning', () => {
      const mapping = hoopsConfigToEnv({ workspaceDir: 'ws' }, CONFIG_FILE, HOME);
      expect(mapping.env.SC_WORKSPACE_DIR).toBe(`${PACKAGE}/server/node/ws`);
      expect(mapping.warnings).toEqual([expect.stringMatching(/communicatorDir is not set/)]);
    });

    it('the Stream Cache Servers get the certificate when sslEnableScServer is true; the spawn server TLS has no equivalent', () => {
      const mapping = hoopsConfigToEnv(
        {
          communicatorDir: '../../',
          sslCertificateFile: 'certs/cert.pem',
          sslPrivateKeyFile: '~/key.pem',
          sslEnableScServer: true,
          sslEnableSpawnServer: true,
        },
        CONFIG_FILE,
        HOME,
      );
      expect(JSON.parse(mapping.env.SC_EXTRA_ARGS)).toEqual([
        '--ssl-certificate-file',
        `${PACKAGE}/certs/cert.pem`,
        '--ssl-private-key-file',
        `${HOME}/key.pem`,
      ]);
      expect(mapping.warnings).toEqual([
        expect.stringMatching(/^sslEnableSpawnServer has no equivalent.*terminate TLS/),
      ]);
      const off = hoopsConfigToEnv(
        { communicatorDir: '/', sslCertificateFile: 'c', sslPrivateKeyFile: 'k', sslEnableScServer: false },
        CONFIG_FILE,
        HOME,
      );
      expect(off.env.SC_EXTRA_ARGS).toBeUndefined();
      expect(
        hoopsConfigToEnv({ communicatorDir: '/', sslEnableScServer: true, sslCertificateFile: 'c' }, CONFIG_FILE, HOME)
          .problems,
      ).toEqual([expect.stringMatching(/sslEnableScServer is true but/)]);
    });

    it('wrong types, both license settings, and folder names a list cannot hold are problems', () => {
      const mapping = hoopsConfigToEnv(
        {
          communicatorDir: '/opt/hoops',
          spawnServerPort: '11182',
          csrEnabled: 'yes',
          modelDirs: '/srv/models',
          licenseFile: 'l.txt',
          license: 'KEY',
        },
        CONFIG_FILE,
        HOME,
      );
      expect(mapping.problems).toEqual([
        'spawnServerPort must be a number, got "11182"',
        'csrEnabled must be a boolean, got "yes"',
        'modelDirs must be an array of folder paths, got "/srv/models"',
        'licenseFile and license are both set: set exactly one (the file is preferred)',
      ]);
      expect(hoopsConfigToEnv({ communicatorDir: '/', modelDirs: ['a:b'] }, CONFIG_FILE, HOME).problems).toEqual([
        expect.stringMatching(/modelDirs entry "\/a:b" contains ':'/),
      ]);
    });
  });
});

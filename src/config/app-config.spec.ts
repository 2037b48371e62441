import * as path from 'path';
import {
  AppConfig,
  BUNDLED_SIMULATOR,
  ConfigError,
  parseAppConfig,
  SIMULATOR_DUMMY_LICENSE,
  SIMULATOR_SAMPLE_MODELS,
} from './app-config';

const REPO = path.resolve(__dirname, '../..');

/** Parses and expects a ConfigError; returns its problems. */
function problemsOf(env: Record<string, string>): string[] {
  let thrown: unknown;
  try {
    parseAppConfig(env);
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(ConfigError);
  const error = thrown as ConfigError;
  expect(error.name).toBe('ConfigError');
  // The message lists every problem.
  for (const problem of error.problems) expect(error.message).toContain(problem);
  return error.problems;
}

function oneProblem(env: Record<string, string>): string {
  const problems = problemsOf(env);
  expect(problems).toHaveLength(1);
  return problems[0];
}

describe('parseAppConfig', () => {
  describe('defaults', () => {
    let config: AppConfig;
    beforeAll(() => {
      config = parseAppConfig({});
    });

    it('listens on 0.0.0.0:11182', () => {
      expect(config.port).toBe(11182);
      expect(config.host).toBe('0.0.0.0');
      expect(config.publicEndpoint).toBe('direct');
      expect(config.publicScheme).toBeUndefined();
      expect(config.publicHostname).toBeUndefined();
      expect(config.trustForwardedProto).toBe(false);
      expect(config.corsOrigins).toBe(true);
    });

    it('32 spawns on ports from 55000, twice as many ports as spawns', () => {
      expect(config.maxSpawns).toBe(32);
      expect(config.portBase).toBe(55000);
      expect(config.portCount).toBe(64);
    });

    it('port count follows SC_MAX_SPAWNS', () => {
      expect(parseAppConfig({ SC_MAX_SPAWNS: '10' }).portCount).toBe(20);
      expect(parseAppConfig({ SC_MAX_SPAWNS: '10', SC_PORT_COUNT: '11' }).portCount).toBe(11);
    });

    it('timings: 5 s pings, ping timeout 3x5+2, 60 s initial use, 30 s ready timeout, 5 s kill grace, 1 s sweep', () => {
      expect(config.livelinessIntervalS).toBe(5);
      expect(config.pingTimeoutS).toBe(17);
      expect(config.initialUseDurationS).toBe(60);
      expect(config.readyTimeoutS).toBe(30);
      expect(config.killGraceS).toBe(5);
      expect(config.sweepIntervalMs).toBe(1000);
    });

    it('ping timeout follows the interval', () => {
      expect(parseAppConfig({ SC_LIVELINESS_INTERVAL_S: '2' }).pingTimeoutS).toBe(8);
    });

    it('runs the bundled simulator with its dummy license and sample models', () => {
      expect(config.usingSimulator).toBe(true);
      expect(config.scExecutable).toBe(path.join(REPO, 'apps/sc-server-sim/bin/ts3d_sc_server'));
      expect(config.scExecutable).toBe(BUNDLED_SIMULATOR);
      expect(config.licenseFile).toBe(path.join(REPO, 'apps/sc-server-sim/dummy-license.txt'));
      expect(config.licenseFile).toBe(SIMULATOR_DUMMY_LICENSE);
      expect(config.license).toBeUndefined();
      expect(config.modelDirs).toEqual([path.join(REPO, 'apps/sc-server-sim/models')]);
      expect(config.modelDirs).toEqual([SIMULATOR_SAMPLE_MODELS]);
      expect(config.allowedModelRoots).toEqual(config.modelDirs);
      expect(config.extraArgs).toEqual([]);
      expect(config.workspaceDir).toBeUndefined();
    });

    it('both renderers enabled, SSR on DISPLAY :0 without EGL', () => {
      expect(config.csrEnabled).toBe(true);
      expect(config.ssrEnabled).toBe(true);
      expect(config.ssrDisplay).toBe(':0');
      expect(config.ssrEgl).toBe(false);
      expect(config.ssrGpuIndex).toBeUndefined();
    });

    it('blank values count as unset', () => {
      const blank = parseAppConfig({ PORT: '  ', SC_MAX_SPAWNS: '', SC_LICENSE_FILE: ' ' });
      expect(blank.port).toBe(11182);
      expect(blank.maxSpawns).toBe(32);
      expect(blank.licenseFile).toBe(SIMULATOR_DUMMY_LICENSE);
    });
  });

  describe('values', () => {
    it('accepts fractional seconds', () => {
      const config = parseAppConfig({
        SC_LIVELINESS_INTERVAL_S: '0.5',
        SPAWN_READY_TIMEOUT_S: '1.25',
        KILL_GRACE_S: '0.2',
        SC_INITIAL_USE_DURATION_S: '7.5',
      });
      expect(config.livelinessIntervalS).toBe(0.5);
      expect(config.pingTimeoutS).toBe(3.5);
      expect(config.readyTimeoutS).toBe(1.25);
      expect(config.killGraceS).toBe(0.2);
      expect(config.initialUseDurationS).toBe(7.5);
    });

    it('reads the real executable with a license file, resolving paths', () => {
      const config = parseAppConfig({
        SC_EXECUTABLE: '/opt/sc/ts3d_sc_server',
        SC_LICENSE_FILE: '/etc/sc/license.txt',
        SC_MODEL_DIRS: '/m/a: /m/b ',
      });
      expect(config.usingSimulator).toBe(false);
      expect(config.scExecutable).toBe('/opt/sc/ts3d_sc_server');
      expect(config.licenseFile).toBe('/etc/sc/license.txt');
      expect(config.modelDirs).toEqual(['/m/a', '/m/b']);
    });

    it('reads the real executable with a license key (no file)', () => {
      const config = parseAppConfig({ SC_EXECUTABLE: '/opt/sc/ts3d_sc_server', SC_LICENSE: 'KEY' });
      expect(config.license).toBe('KEY');
      expect(config.licenseFile).toBeUndefined();
      expect(config.modelDirs).toEqual([]);
    });

    it.each([
      ['true', true],
      ['1', true],
      ['YES', true],
      ['on', true],
      ['false', false],
      ['0', false],
      ['No', false],
      ['off', false],
    ])('boolean %j reads as %s', (raw, expected) => {
      expect(parseAppConfig({ SSR_ENABLED: raw }).ssrEnabled).toBe(expected);
    });

    it('SC_EXTRA_ARGS: space-separated or a JSON array', () => {
      expect(parseAppConfig({ SC_EXTRA_ARGS: '--sc-verbose-logging true  --log-file /tmp/x.log' }).extraArgs).toEqual([
        '--sc-verbose-logging',
        'true',
        '--log-file',
        '/tmp/x.log',
      ]);
      expect(parseAppConfig({ SC_EXTRA_ARGS: '["--log-file", "/tmp/with space.log"]' }).extraArgs).toEqual([
        '--log-file',
        '/tmp/with space.log',
      ]);
    });

    it('CORS_ORIGINS: a list, or * for any', () => {
      expect(parseAppConfig({ CORS_ORIGINS: 'https://a.example, https://b.example' }).corsOrigins).toEqual([
        'https://a.example',
        'https://b.example',
      ]);
      expect(parseAppConfig({ CORS_ORIGINS: '*' }).corsOrigins).toBe(true);
    });

    it('SSR settings', () => {
      const config = parseAppConfig({ DISPLAY: ':3', SC_SSR_EGL: 'true', SC_SSR_GPU_INDEX: '1' });
      expect(config.ssrDisplay).toBe(':3');
      expect(config.ssrEgl).toBe(true);
      expect(config.ssrGpuIndex).toBe(1);
    });

    it('PORT 0 (ephemeral) is allowed', () => {
      expect(parseAppConfig({ PORT: '0' }).port).toBe(0);
    });

    it('the port range may end exactly at 65535', () => {
      const config = parseAppConfig({ SC_PORT_BASE: '65000', SC_PORT_COUNT: '536' });
      expect(config.portBase + config.portCount - 1).toBe(65535);
    });
  });

  describe('invalid values: the error names the variable and what is allowed', () => {
    it.each([
      ['SC_MAX_SPAWNS', 'abc', 1, 10000],
      ['SC_MAX_SPAWNS', '0', 1, 10000],
      ['SC_MAX_SPAWNS', '-3', 1, 10000],
      ['SC_MAX_SPAWNS', '2.5', 1, 10000],
      ['SC_MAX_SPAWNS', '10001', 1, 10000],
      ['PORT', '65536', 0, 65535],
      ['PORT', '80a', 0, 65535],
      ['SC_PORT_BASE', '0', 1, 65535],
      ['SC_PORT_COUNT', '0', 1, 65535],
      ['SWEEP_INTERVAL_MS', '5', 10, 60000],
      ['SC_SSR_GPU_INDEX', '-1', 0, 1024],
    ])('%s=%j', (name, raw, min, max) => {
      const problem = oneProblem({ [name]: String(raw) });
      expect(problem).toBe(`${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}`);
    });

    it.each(['0', '-1', 'abc', '.5', '1e3', '5s'])('seconds: SPAWN_READY_TIMEOUT_S=%j', (raw) => {
      const problem = oneProblem({ SPAWN_READY_TIMEOUT_S: raw });
      expect(problem).toContain('SPAWN_READY_TIMEOUT_S');
      expect(problem).toContain('greater than 0');
      expect(problem).toContain('fractions allowed');
      expect(problem).toContain(JSON.stringify(raw));
    });

    it.each(['KILL_GRACE_S', 'SC_LIVELINESS_INTERVAL_S', 'SC_INITIAL_USE_DURATION_S', 'PING_TIMEOUT_S'])(
      'seconds: %s=0',
      (name) => {
        const problems = problemsOf({ [name]: '0' });
        expect(problems[0]).toContain(`${name} must be a number of seconds greater than 0`);
      },
    );

    it.each([
      ['CSR_ENABLED', 'maybe'],
      ['SSR_ENABLED', 'y'],
      ['SC_SSR_EGL', '2'],
      ['TRUST_PROXY', 'enabled'],
    ])('boolean %s=%j', (name, raw) => {
      expect(oneProblem({ [name]: raw })).toBe(`${name} must be true or false, got ${JSON.stringify(raw)}`);
    });

    it('PUBLIC_ENDPOINT and PUBLIC_SCHEME list what is allowed', () => {
      expect(oneProblem({ PUBLIC_ENDPOINT: 'tunnel' })).toBe(
        'PUBLIC_ENDPOINT must be one of direct, proxy, got "tunnel"',
      );
      expect(oneProblem({ PUBLIC_SCHEME: 'http' })).toBe('PUBLIC_SCHEME must be one of ws, wss, got "http"');
    });

    it('PUBLIC_HOSTNAME must be a host name', () => {
      expect(oneProblem({ PUBLIC_HOSTNAME: 'http://x/y' })).toContain(
        'PUBLIC_HOSTNAME must be a host name or IP address',
      );
    });

    it('a port range past 65535', () => {
      const problem = oneProblem({ SC_PORT_BASE: '65000', SC_PORT_COUNT: '537' });
      expect(problem).toContain('SC_PORT_BASE + SC_PORT_COUNT - 1 must not exceed 65535');
      expect(problem).toContain('65000 + 537 - 1');
    });

    it('PORT inside the WebSocket port range', () => {
      const problem = oneProblem({ PORT: '55010' });
      expect(problem).toContain('PORT 55010');
      expect(problem).toContain('SC_PORT_BASE');
      expect(problem).toContain('SC_PORT_COUNT');
      // Just outside the range (55000..55063 by default) is fine.
      expect(parseAppConfig({ PORT: '55064' }).port).toBe(55064);
      expect(parseAppConfig({ PORT: '54999' }).port).toBe(54999);
      expect(problemsOf({ PORT: '55000' })).toHaveLength(1);
      expect(problemsOf({ PORT: '55063' })).toHaveLength(1);
    });

    it('PING_TIMEOUT_S not longer than the liveliness interval', () => {
      const problem = oneProblem({ PING_TIMEOUT_S: '5' });
      expect(problem).toContain('PING_TIMEOUT_S (5) must be longer than SC_LIVELINESS_INTERVAL_S (5)');
      expect(oneProblem({ SC_LIVELINESS_INTERVAL_S: '10', PING_TIMEOUT_S: '9.5' })).toContain(
        'PING_TIMEOUT_S (9.5) must be longer than SC_LIVELINESS_INTERVAL_S (10)',
      );
      expect(parseAppConfig({ PING_TIMEOUT_S: '5.1' }).pingTimeoutS).toBe(5.1);
    });

    it('both SC_LICENSE_FILE and SC_LICENSE', () => {
      const problem = oneProblem({ SC_LICENSE_FILE: '/l.txt', SC_LICENSE: 'KEY' });
      expect(problem).toContain('SC_LICENSE_FILE and SC_LICENSE are both set');
      expect(problem).toContain('only one');
    });

    it('SC_EXECUTABLE without any license', () => {
      const problem = oneProblem({ SC_EXECUTABLE: '/opt/sc/ts3d_sc_server' });
      expect(problem).toBe('SC_LICENSE_FILE (preferred) or SC_LICENSE is required when SC_EXECUTABLE is set');
    });

    it('SC_MODEL_DIRS entries with ;', () => {
      expect(oneProblem({ SC_MODEL_DIRS: '/m/a;b' })).toContain("SC_MODEL_DIRS entries may not contain ';'");
    });

    it('SC_EXTRA_ARGS with an unknown option lists the allowed ones (and not the managed ones)', () => {
      const problem = oneProblem({ SC_EXTRA_ARGS: '--frobnicate yes' });
      expect(problem).toMatch(/^SC_EXTRA_ARGS: unknown option --frobnicate; allowed options: /);
      const allowed = problem.split('allowed options: ')[1].split(' ');
      expect(allowed).toEqual(
        expect.arrayContaining([
          '--ssl-certificate-file',
          '--ssl-private-key-file',
          '--log-file',
          '--sc-verbose-logging',
        ]),
      );
      const managedFlags = [
        '--id',
        '--sc-port',
        '--license',
        '--license-file',
        '--csr',
        '--ssr',
        '--model-file',
        '--session-token',
        '--liveliness-endpoint',
      ];
      // Set from SC_WORKSPACE_DIR / SC_SSR_EGL / SC_SSR_GPU_INDEX, so extra args may not repeat them.
      for (const managed of [...managedFlags, '--workspace-dir', '--ssr-egl', '--ssr-gpu-index']) {
        expect(allowed).not.toContain(managed);
      }
    });

    it('SC_EXTRA_ARGS may not repeat options the service sets from its own variables', () => {
      expect(oneProblem({ SC_EXTRA_ARGS: '--workspace-dir /tmp/x' })).toBe(
        'SC_EXTRA_ARGS may not set --workspace-dir: the service sets it for each spawn',
      );
      expect(oneProblem({ SC_EXTRA_ARGS: '--ssr-egl=true' })).toBe(
        'SC_EXTRA_ARGS may not set --ssr-egl: the service sets it for each spawn',
      );
    });

    it('SC_EXTRA_ARGS with a bad value', () => {
      const problem = oneProblem({ SC_EXTRA_ARGS: '--sc-verbose-logging maybe' });
      expect(problem).toContain('SC_EXTRA_ARGS');
      expect(problem).toContain('expects true or false');
    });

    it.each([
      ['--sc-port 56000', '--sc-port'],
      ['--license=KEY', '--license'],
      ['--log-file /tmp/l --id abc', '--id'],
      ['["--session-token", "t"]', '--session-token'],
      ['--liveliness-update-frequency 1', '--liveliness-update-frequency'],
      ['--model-search-directories /x', '--model-search-directories'],
    ])('SC_EXTRA_ARGS=%j may not set the managed option %s', (raw, flag) => {
      expect(oneProblem({ SC_EXTRA_ARGS: raw })).toBe(
        `SC_EXTRA_ARGS may not set ${flag}: the service sets it for each spawn`,
      );
    });

    it('SC_EXTRA_ARGS as malformed JSON', () => {
      expect(oneProblem({ SC_EXTRA_ARGS: '["--log-file", 3]' })).toBe(
        'SC_EXTRA_ARGS must be space-separated options, or a JSON array of strings',
      );
      expect(oneProblem({ SC_EXTRA_ARGS: '[--log-file' })).toBe(
        'SC_EXTRA_ARGS must be space-separated options, or a JSON array of strings',
      );
    });

    it('reports every problem at once', () => {
      const problems = problemsOf({ PORT: 'x', SC_MAX_SPAWNS: '0', CSR_ENABLED: 'perhaps', KILL_GRACE_S: '-1' });
      expect(problems).toHaveLength(4);
      expect(problems.join('\n')).toMatch(/PORT[\s\S]*SC_MAX_SPAWNS[\s\S]*KILL_GRACE_S[\s\S]*CSR_ENABLED/);
    });
  });
});

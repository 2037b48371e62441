import * as path from 'path';
import {
  AppConfig,
  BUNDLED_SIMULATOR,
  parseAppConfig,
  SIMULATOR_DUMMY_LICENSE,
  SIMULATOR_SAMPLE_MODELS,
} from './app-config';

const REPO = path.resolve(__dirname, '../..');

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
      expect(config.trustProxy).toBe(false);
      expect(config.corsOrigins).toBe(true);
    });

    it('32 spawns on ports from 11000 (as the HOOPS Server, below the ephemeral range), twice as many ports as spawns', () => {
      expect(config.maxSpawns).toBe(32);
      expect(config.portBase).toBe(11000);
      expect(config.portCount).toBe(64);
      // The service's own default port lies outside the default WebSocket range.
      expect(config.port).toBeGreaterThan(config.portBase + config.portCount - 1);
    });

    it('spawn on connect is on; SSR on the default GPU', () => {
      expect(config.spawnOnConnect).toBe(true);
      expect(config.ssrGpuCount).toBeUndefined();
      expect(config.ssrGpuIndex).toBeUndefined();
    });

    it('SC_SSR_GPU_COUNT spreads SSR over GPUs; with SC_SSR_GPU_INDEX it is a configuration error', () => {
      expect(parseAppConfig({ SC_SSR_GPU_COUNT: '2' }).ssrGpuCount).toBe(2);
      expect(() => parseAppConfig({ SC_SSR_GPU_COUNT: '2', SC_SSR_GPU_INDEX: '1' })).toThrow(
        /SC_SSR_GPU_INDEX and SC_SSR_GPU_COUNT are both set/,
      );
      expect(() => parseAppConfig({ SC_SSR_GPU_COUNT: '0' })).toThrow(/SC_SSR_GPU_COUNT must be a whole number from 1/);
      expect(parseAppConfig({ SPAWN_ON_CONNECT: 'false' }).spawnOnConnect).toBe(false);
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

    it('no warm pool by default; warm servers retire after 600 s', () => {
      expect(config.warmPool).toEqual({ csr: 0, ssr: 0 });
      expect(config.warmMaxAgeS).toBe(600);
      const warm = parseAppConfig({
        SC_MAX_SPAWNS: '4',
        SC_WARM_POOL_CSR: '3',
        SC_WARM_POOL_SSR: '1',
        SC_WARM_MAX_AGE_S: '2.5',
      });
      expect(warm.warmPool).toEqual({ csr: 3, ssr: 1 });
      expect(warm.warmMaxAgeS).toBe(2.5);
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
      // Kept as a browser sends its Origin header: without the trailing slash an origin may be written with.
      expect(
        parseAppConfig({ CORS_ORIGINS: 'https://a.example/,http://b.example:8080/,HTTPS://C.Example:443' }).corsOrigins,
      ).toEqual(['https://a.example', 'http://b.example:8080', 'https://c.example']);
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

  describe('hardening settings', () => {
    it('defaults: 64kb bodies, servers at nice 10, no extra variables for them', () => {
      const config = parseAppConfig({});
      expect(config.bodyLimitBytes).toBe(65536);
      expect(config.childNice).toBe(10);
      expect(config.childEnv).toEqual([]);
      for (const name of ['SC_LICENSE', 'SC_LICENSE_FILE', 'PORT', 'SC_CHILD_ENV', 'BODY_LIMIT', 'SC_NICE']) {
        expect(config.settingNames.has(name)).toBe(true);
      }
      expect(config.settingNames.has('DISPLAY')).toBe(false); // SSR needs it passed on
    });

    it.each([
      ['2048', 2048],
      ['64kb', 65536],
      ['1MB', 1048576],
      ['16mb', 16777216],
    ])('BODY_LIMIT=%j is %d bytes', (raw, bytes) => {
      expect(parseAppConfig({ BODY_LIMIT: raw }).bodyLimitBytes).toBe(bytes);
    });

    it('SC_NICE and SC_CHILD_ENV (comma or space separated, prefixes with *)', () => {
      const config = parseAppConfig({ SC_NICE: '0', SC_CHILD_ENV: 'A_B, VENDOR_* C' });
      expect(config.childNice).toBe(0);
      expect(config.childEnv).toEqual(['A_B', 'VENDOR_*', 'C']);
    });
  });
});

describe('parseAppConfig: access, rate limit and logs', () => {
  it('defaults: no keys, spawn routes open, metrics protected, no rate limit, JSON at info', () => {
    const config = parseAppConfig({});
    expect(config).toMatchObject({ apiKeys: [], spawnAuthRequired: false, metricsPublic: false });
    expect(config.apiKeysFile).toBeUndefined();
    expect(config.spawnRateLimit).toBeUndefined();
    expect(config.logFormat).toBe('json');
    expect(config.logLevel).toBe('info');
  });

  it('reads keys, SPAWN_AUTH, METRICS_PUBLIC, LOG_*', () => {
    const config = parseAppConfig({
      API_KEYS: 'k3y-0123456789abcdef, k3y-fedcba9876543210',
      SPAWN_AUTH: 'required',
      METRICS_PUBLIC: 'true',
      LOG_FORMAT: 'pretty',
      LOG_LEVEL: 'debug',
    });
    expect(config.apiKeys).toEqual(['k3y-0123456789abcdef', 'k3y-fedcba9876543210']);
    expect(config).toMatchObject({
      spawnAuthRequired: true,
      metricsPublic: true,
      logFormat: 'pretty',
      logLevel: 'debug',
    });
  });

  it.each([
    ['30/60s', { limit: 30, ttlMs: 60_000 }],
    ['30/60', { limit: 30, ttlMs: 60_000 }],
    ['5 / 1m', { limit: 5, ttlMs: 60_000 }],
    ['100/500ms', { limit: 100, ttlMs: 500 }],
    ['1000/1h', { limit: 1000, ttlMs: 3_600_000 }],
  ])('SPAWN_RATE_LIMIT=%s', (value, expected) => {
    expect(parseAppConfig({ SPAWN_RATE_LIMIT: value }).spawnRateLimit).toEqual(expected);
  });

  it('SPAWN_RATE_LIMIT=off is no limit', () => {
    expect(parseAppConfig({ SPAWN_RATE_LIMIT: 'off' }).spawnRateLimit).toBeUndefined();
  });
});

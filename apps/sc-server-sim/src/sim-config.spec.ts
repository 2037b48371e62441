import { MIN_PING_PERIOD_MS, SimExit, loadConfig, type ReadFile } from './sim-config';

const BASE = ['--id', 'sim-1', '--sc-port', '5000', '--license', 'KEY-123'];

function exitOf(run: () => unknown): { code: number; message: string } {
  try {
    run();
  } catch (error) {
    if (error instanceof SimExit) return { code: error.exitCode, message: error.message };
    throw error;
  }
  throw new Error('expected a SimExit');
}

const files: Record<string, string> = { '/lic/good': 'LICENSE-CONTENT-XYZ', '/lic/empty': '', '/lic/blank': ' \n\t\n' };
const readFile: ReadFile = (path) => {
  if (path in files) return Buffer.from(files[path]);
  throw Object.assign(new Error(`ENOENT: no such file, open '${path}'`), { code: 'ENOENT' });
};

describe('loadConfig', () => {
  it('applies the defaults', () => {
    expect(loadConfig(BASE, {})).toEqual({
      id: 'sim-1',
      port: 5000,
      host: undefined,
      rendererType: 'csr',
      modelFile: null,
      modelSearchDirectories: [],
      sessionToken: undefined,
      livelinessEndpoint: undefined,
      pingPeriodMs: 5000,
      initialUseMs: 60000,
      readyDelayMs: 0,
      faults: expect.objectContaining({ names: [] }),
      tls: undefined,
      logFile: undefined,
      verbose: false,
    });
  });

  it('reads every option it uses', () => {
    const config = loadConfig(
      [
        ...BASE,
        '--ssr=true',
        '--model-file',
        'engine',
        '--model-search-directories',
        '/a;/b c',
        '--session-token',
        'tok',
        '--liveliness-endpoint',
        'http://127.0.0.1:9/api/spawns',
        '--liveliness-update-frequency',
        '0.25',
        '--initial-use-duration',
        '1.5',
        '--sc-verbose-logging',
        'true',
        '--log-file',
        '/tmp/x.log',
      ],
      { SCSIM_HOST: '127.0.0.1', SCSIM_READY_DELAY_MS: '20' },
    );
    expect(config).toMatchObject({
      host: '127.0.0.1',
      rendererType: 'ssr',
      modelFile: 'engine',
      modelSearchDirectories: ['/a', '/b c'],
      sessionToken: 'tok',
      livelinessEndpoint: 'http://127.0.0.1:9/api/spawns',
      pingPeriodMs: 250,
      initialUseMs: 1500,
      readyDelayMs: 20,
      logFile: '/tmp/x.log',
      verbose: true,
    });
  });

  it('adds a slow-ready fault to SCSIM_READY_DELAY_MS', () => {
    expect(
      loadConfig([...BASE, '--model-file', 'scsim:slow-ready:300'], { SCSIM_READY_DELAY_MS: '5' }).readyDelayMs,
    ).toBe(305);
  });

  it('never pings faster than MIN_PING_PERIOD_MS', () => {
    expect(loadConfig([...BASE, '--liveliness-update-frequency', '0'], {}).pingPeriodMs).toBe(MIN_PING_PERIOD_MS);
  });

  it('requires no token for an empty --session-token', () => {
    expect(loadConfig([...BASE, '--session-token='], {}).sessionToken).toBeUndefined();
  });

  it('holds no license material', () => {
    const config = loadConfig(['--id', 'a', '--sc-port', '1', '--license-file', '/lic/good'], {}, readFile);
    expect(JSON.stringify(config)).not.toMatch(/KEY-123|LICENSE-CONTENT|\/lic\/good/);
    expect(JSON.stringify(loadConfig(BASE, {}))).not.toContain('KEY-123');
  });

  describe('exit 2: invalid command line argument', () => {
    it.each([
      ['missing --id', ['--sc-port', '5000', '--license', 'k'], /--id is required/],
      ['missing --sc-port', ['--id', 'a', '--license', 'k'], /--sc-port is required/],
      ['no license option', ['--id', 'a', '--sc-port', '5000'], /one of --license or --license-file/],
      ['both license options', [...BASE, '--license-file', '/lic/good'], /only one of/],
      ['bad port', ['--id', 'a', '--sc-port', '70000', '--license', 'k'], /port number/],
      ['unknown option', [...BASE, '--frobnicate', '1'], /unknown option --frobnicate/],
      ['missing value', [...BASE, '--model-file'], /requires a value/],
      ['bad boolean', [...BASE, '--csr', 'maybe'], /true or false/],
      ['bad endpoint', [...BASE, '--liveliness-endpoint', 'not a url'], /http:\/\/ or https:\/\//],
      ['non-http endpoint', [...BASE, '--liveliness-endpoint', 'ftp://h/x'], /http:\/\/ or https:\/\//],
      ['half of TLS', [...BASE, '--ssl-certificate-file', '/c.pem'], /must be given together/],
      ['unknown scsim: fault', [...BASE, '--model-file', 'scsim:explode'], /unknown fault "explode"/],
    ])('%s', (_name, argv, message) => {
      const exit = exitOf(() => loadConfig(argv, {}, readFile));
      expect(exit.code).toBe(2);
      expect(exit.message).toMatch(message);
    });

    it('for an unknown SCSIM_FAULT or a bad SCSIM_READY_DELAY_MS', () => {
      expect(exitOf(() => loadConfig(BASE, { SCSIM_FAULT: 'explode' })).code).toBe(2);
      expect(exitOf(() => loadConfig(BASE, { SCSIM_READY_DELAY_MS: 'soon' })).code).toBe(2);
    });

    it('before looking at the license', () => {
      expect(exitOf(() => loadConfig(['--id', 'a', '--sc-port', '0', '--license', ''], {})).code).toBe(2);
    });
  });

  it('exits 6 for an empty --license, without showing any key', () => {
    expect(exitOf(() => loadConfig(['--id', 'a', '--sc-port', '1', '--license', ''], {}))).toEqual({
      code: 6,
      message: 'invalid license: --license is empty',
    });
    expect(exitOf(() => loadConfig(['--id', 'a', '--sc-port', '1', '--license', '   '], {})).code).toBe(6);
  });

  it.each([
    ['/lic/missing', /cannot read \/lic\/missing \(ENOENT\)/],
    ['/lic/empty', /\/lic\/empty is empty/],
    ['/lic/blank', /\/lic\/blank is empty/],
  ])('exits 7 for license file %s', (path, message) => {
    const exit = exitOf(() => loadConfig(['--id', 'a', '--sc-port', '1', '--license-file', path], {}, readFile));
    expect(exit.code).toBe(7);
    expect(exit.message).toMatch(message);
  });

  it('accepts a readable, non-empty license file', () => {
    expect(loadConfig(['--id', 'a', '--sc-port', '1', '--license-file', '/lic/good'], {}, readFile).id).toBe('a');
  });
});

import {
  ArgvError,
  MODEL_SEARCH_PATH_SEPARATOR,
  OPTION_SPECS,
  missingRequiredOptions,
  parseArgv,
  rendererOf,
  toArgv,
  type ScServerOptions,
} from './command-line';
import { argvValueProblem, MAX_ARGV_VALUE_LENGTH } from './argv-value';

/** Every option set, with values chosen to be awkward. */
const FULL: Required<ScServerOptions> = {
  id: '3f2c1e9a-8b7d-4c6e-9f10-123456789abc',
  scPort: 55000,
  license: 'key with spaces; and = signs',
  licenseFile: '/opt/licenses/hoops license;v2.txt',
  csr: true,
  ssr: false,
  ssrGpuIndex: 1,
  ssrEgl: true,
  modelSearchDirectories: ['/models/a', '/mnt/shared models/b', 'relative/c'],
  modelFile: 'micro engine',
  sessionToken: 'tok=en;with"quotes',
  workspaceDir: '/tmp/work space',
  livelinessEndpoint: 'http://127.0.0.1:11182/api/spawns',
  livelinessUpdateFrequency: 0.25,
  initialUseDuration: 60,
  sslCertificateFile: '/etc/ssl/cert;1.pem',
  sslPrivateKeyFile: '/etc/ssl/key 1.pem',
  logFile: '/var/log/sc server.log',
  scVerboseLogging: false,
};

/** `--opt value` to `--opt=value`. */
function withEquals(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i += 2) out.push(`${argv[i]}=${argv[i + 1]}`);
  return out;
}

describe('toArgv / parseArgv', () => {
  it('has a test value for every option in the table', () => {
    expect(Object.keys(FULL).sort()).toEqual(OPTION_SPECS.map((spec) => spec.key).sort());
  });

  it('emits every option as a separate flag and value, in table order', () => {
    const argv = toArgv(FULL);
    expect(argv.filter((_, i) => i % 2 === 0)).toEqual(OPTION_SPECS.map((spec) => spec.flag));
    expect(argv).toContain('/tmp/work space');
    expect(argv[argv.indexOf('--model-search-directories') + 1]).toBe('/models/a;/mnt/shared models/b;relative/c');
    expect(argv[argv.indexOf('--sc-port') + 1]).toBe('55000');
    expect(argv[argv.indexOf('--csr') + 1]).toBe('true');
    expect(argv[argv.indexOf('--ssr') + 1]).toBe('false');
    expect(argv[argv.indexOf('--liveliness-update-frequency') + 1]).toBe('0.25');
  });

  it.each(OPTION_SPECS.map((spec) => [spec.flag, spec.key] as const))(
    'round-trips %s alone, in both syntaxes',
    (_flag, key) => {
      const options = { [key]: FULL[key] } as ScServerOptions;
      const argv = toArgv(options);
      expect(argv).toHaveLength(2);
      expect(parseArgv(argv)).toEqual(options);
      expect(parseArgv(withEquals(argv))).toEqual(options);
    },
  );

  it('round-trips all options together, in both syntaxes and mixed', () => {
    const argv = toArgv(FULL);
    expect(parseArgv(argv)).toEqual(FULL);
    expect(parseArgv(withEquals(argv))).toEqual(FULL);
    const mixed = [...withEquals(argv.slice(0, 10)), ...argv.slice(10)];
    expect(parseArgv(mixed)).toEqual(FULL);
  });

  it('omits undefined options and parses an empty command line to no options', () => {
    expect(toArgv({})).toEqual([]);
    expect(toArgv({ id: 'x', modelFile: undefined })).toEqual(['--id', 'x']);
    expect(parseArgv([])).toEqual({});
  });

  it('refuses to build a command line the server would reject', () => {
    for (const scPort of [0, 65536, 1.5, NaN, -80]) expect(() => toArgv({ scPort })).toThrow(ArgvError);
    expect(() => toArgv({ ssrGpuIndex: -1 })).toThrow(/--ssr-gpu-index/);
    for (const seconds of [-1, NaN, Infinity]) {
      expect(() => toArgv({ livelinessUpdateFrequency: seconds })).toThrow(ArgvError);
      expect(() => toArgv({ initialUseDuration: seconds })).toThrow(ArgvError);
    }
  });

  it('writes small fractions of a second in plain decimal notation', () => {
    expect(toArgv({ livelinessUpdateFrequency: 1e-7 })).toEqual(['--liveliness-update-frequency', '0.0000001']);
    expect(parseArgv(toArgv({ initialUseDuration: 2.5e-7 }))).toEqual({ initialUseDuration: 2.5e-7 });
    expect(toArgv({ initialUseDuration: 0 })).toEqual(['--initial-use-duration', '0']);
  });

  it('keeps everything after the first = as the value', () => {
    expect(parseArgv(['--session-token=a=b=c'])).toEqual({ sessionToken: 'a=b=c' });
    expect(parseArgv(['--license='])).toEqual({ license: '' });
  });

  it('takes the next item as the value even when it looks like an option', () => {
    expect(parseArgv(['--session-token', '--id'])).toEqual({ sessionToken: '--id' });
  });

  it('keeps ; in non-list values', () => {
    expect(parseArgv(['--model-file', 'a;b', '--workspace-dir=c;d'])).toEqual({
      modelFile: 'a;b',
      workspaceDir: 'c;d',
    });
  });

  it('lets the last occurrence of an option win', () => {
    expect(parseArgv(['--id', 'a', '--id=b'])).toEqual({ id: 'b' });
  });

  describe('model search directories', () => {
    it('joins and splits on ;', () => {
      expect(MODEL_SEARCH_PATH_SEPARATOR).toBe(';');
      expect(toArgv({ modelSearchDirectories: ['/a', '/b c'] })).toEqual(['--model-search-directories', '/a;/b c']);
      expect(parseArgv(['--model-search-directories', '/a;/b c;d'])).toEqual({
        modelSearchDirectories: ['/a', '/b c', 'd'],
      });
    });

    it('round-trips a single directory and an empty list', () => {
      expect(parseArgv(toArgv({ modelSearchDirectories: ['/only'] }))).toEqual({ modelSearchDirectories: ['/only'] });
      expect(toArgv({ modelSearchDirectories: [] })).toEqual(['--model-search-directories', '']);
      expect(parseArgv(toArgv({ modelSearchDirectories: [] }))).toEqual({ modelSearchDirectories: [] });
    });

    it('refuses an entry that contains ; or is empty, since it could not be passed', () => {
      expect(() => toArgv({ modelSearchDirectories: ['/a', '/b;c'] })).toThrow(ArgvError);
      expect(() => toArgv({ modelSearchDirectories: ['/a', '/b;c'] })).toThrow(/"\/b;c"/);
      expect(() => toArgv({ modelSearchDirectories: [''] })).toThrow(ArgvError);
    });
  });

  describe('values that could be read as something else (the argv-value rule, last line of defence)', () => {
    it.each<[string, ScServerOptions]>([
      ['a session token starting with -', { sessionToken: '--license-file=/etc/shadow' }],
      ['a model starting with -', { modelFile: '-x' }],
      ['a model folder starting with -', { modelSearchDirectories: ['/ok', '--license=x'] }],
      ['a license key with a line break', { license: 'KEY\n--id=other' }],
      ['a token with a carriage return', { sessionToken: 'a\rb' }],
      ['a token with a NUL', { sessionToken: 'a\0b' }],
      ['a value longer than the limit', { workspaceDir: '/' + 'x'.repeat(MAX_ARGV_VALUE_LENGTH) }],
    ])('refuses %s, naming the option', (_what, options) => {
      expect(() => toArgv(options)).toThrow(ArgvError);
      expect(() => toArgv(options)).toThrow(/^--[a-z-]+: the value /);
    });

    it('accepts values at the limit and with - or -- inside', () => {
      const options = { sessionToken: 'a-b--c', workspaceDir: '/' + 'x'.repeat(MAX_ARGV_VALUE_LENGTH - 1) };
      expect(parseArgv(toArgv(options))).toEqual(options);
    });
  });

  describe('argvValueProblem', () => {
    it.each([
      ['-a', /starts with '-'/],
      ['a\nb', /NUL or a line break/],
      ['a\r', /NUL or a line break/],
      ['\0', /NUL or a line break/],
      ['x'.repeat(11), /longer than 10 characters/],
    ])('%j: %s', (value, problem) => {
      expect(argvValueProblem(value, 10)).toMatch(problem);
    });

    it.each(['a', 'a-b', '/x/-y', 'x'.repeat(10)])('%j passes', (value) => {
      expect(argvValueProblem(value, 10)).toBeUndefined();
    });
  });

  describe('errors', () => {
    it.each([
      [['--nope', 'x'], /unknown option --nope/],
      [['--nope=x'], /unknown option --nope/],
      [['-id', 'x'], /unexpected argument "-id"/],
      [['stray'], /unexpected argument "stray"/],
      [['--'], /unknown option --/],
      [['--id'], /--id requires a value/],
      [['--id', 'x', '--sc-port'], /--sc-port requires a value/],
      [['--csr', 'yes'], /--csr expects true or false, got "yes"/],
      [['--ssr=TRUE'], /--ssr expects true or false/],
      [['--ssr-egl', '1'], /--ssr-egl expects true or false/],
      [['--sc-port', '0'], /--sc-port expects a port number from 1 to 65535, got "0"/],
      [['--sc-port', '65536'], /port number/],
      [['--sc-port', '70000'], /port number/],
      [['--sc-port', 'abc'], /port number/],
      [['--sc-port', '-1'], /port number/],
      [['--sc-port', '80.5'], /port number/],
      [['--sc-port', ''], /port number/],
      [['--sc-port', ' 80'], /port number/],
      [['--ssr-gpu-index', '-1'], /--ssr-gpu-index expects a whole number/],
      [['--ssr-gpu-index', '1.5'], /whole number/],
      [['--liveliness-update-frequency', 'fast'], /--liveliness-update-frequency expects a number of seconds/],
      [['--liveliness-update-frequency', '-5'], /number of seconds/],
      [['--initial-use-duration', '1e3'], /--initial-use-duration expects a number of seconds/],
      [['--initial-use-duration', ''], /number of seconds/],
    ])('rejects %j', (argv, message) => {
      expect(() => parseArgv(argv)).toThrow(ArgvError);
      expect(() => parseArgv(argv)).toThrow(message);
    });

    it('accepts the edges of each type', () => {
      expect(parseArgv(['--sc-port', '1', '--ssr-gpu-index', '0'])).toEqual({ scPort: 1, ssrGpuIndex: 0 });
      expect(parseArgv(['--sc-port', '65535'])).toEqual({ scPort: 65535 });
      expect(parseArgv(['--liveliness-update-frequency', '5.0', '--initial-use-duration', '0.5'])).toEqual({
        livelinessUpdateFrequency: 5,
        initialUseDuration: 0.5,
      });
    });

    it('names the error ArgvError', () => {
      try {
        parseArgv(['--bogus']);
        throw new Error('parseArgv did not throw');
      } catch (error) {
        expect(error).toBeInstanceOf(ArgvError);
        expect((error as Error).name).toBe('ArgvError');
      }
    });
  });
});

describe('missingRequiredOptions', () => {
  it('is empty for id, port and one license option', () => {
    expect(missingRequiredOptions({ id: 'a', scPort: 1, license: 'k' })).toEqual([]);
    expect(missingRequiredOptions({ id: 'a', scPort: 1, licenseFile: '/f' })).toEqual([]);
  });

  it('treats an empty --license as given (the server then reports an invalid license)', () => {
    expect(missingRequiredOptions({ id: 'a', scPort: 1, license: '' })).toEqual([]);
  });

  it('lists everything missing', () => {
    expect(missingRequiredOptions({})).toEqual([
      '--id is required',
      '--sc-port is required',
      'one of --license or --license-file is required',
    ]);
    expect(missingRequiredOptions({ id: '', scPort: 1, license: 'k' })).toEqual(['--id is required']);
    expect(missingRequiredOptions({ id: 'a', license: 'k' })).toEqual(['--sc-port is required']);
  });

  it('refuses both license options at once', () => {
    expect(missingRequiredOptions({ id: 'a', scPort: 1, license: 'k', licenseFile: '/f' })).toEqual([
      'give only one of --license and --license-file',
    ]);
  });
});

describe('rendererOf', () => {
  it.each([
    [{}, 'csr'],
    [{ csr: true }, 'csr'],
    [{ csr: false }, 'csr'],
    [{ ssr: false }, 'csr'],
    [{ ssr: true }, 'ssr'],
    [{ ssr: true, csr: false }, 'ssr'],
    [{ ssr: true, csr: true }, 'csr'],
  ] as Array<[ScServerOptions, string]>)('%j -> %s', (options, renderer) => {
    expect(rendererOf(options)).toBe(renderer);
  });
});

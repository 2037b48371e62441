import { ConfigError, parseAppConfig } from './app-config';

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
      ['SC_NICE', '20', 0, 19],
      ['SC_NICE', '-5', 0, 19],
      ['SC_NICE', 'low', 0, 19],
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

    it.each(['KILL_GRACE_S', 'SC_INITIAL_USE_DURATION_S', 'PING_TIMEOUT_S'])('seconds: %s=0', (name) => {
      const problems = problemsOf({ [name]: '0' });
      expect(problems[0]).toContain(`${name} must be a number of seconds greater than 0`);
    });

    // A period that repeats work: each server's report, a DNS lookup. 0.001 s would be a flood.
    it.each(['SC_LIVELINESS_INTERVAL_S', 'SC_PEERS_REFRESH_S'])('seconds: %s below 0.1 s', (name) => {
      for (const raw of ['0', '0.001', '0.09']) {
        expect(oneProblem({ [name]: raw })).toBe(
          `${name} must be a number of seconds at least 0.1 (fractions allowed), got ${JSON.stringify(raw)}`,
        );
      }
      expect(() => parseAppConfig({ [name]: '0.1' })).not.toThrow();
    });

    // Longer than setTimeout can wait: the timer would fire at once (SC_FIRST_MESSAGE_TIMEOUT_S closed every viewer).
    it.each(['KILL_GRACE_S', 'SC_FIRST_MESSAGE_TIMEOUT_S', 'SC_PEERS_REFRESH_S', 'DRAIN_TIMEOUT_S'])(
      'seconds: %s beyond the longest timer',
      (name) => {
        expect(oneProblem({ [name]: '9999999' })).toBe(
          `${name} must be at most 2147483 seconds (24.8 days, the longest timer Node.js keeps), got "9999999"`,
        );
        expect(() => parseAppConfig({ [name]: '2147483' })).not.toThrow();
      },
    );

    it.each([
      ['CSR_ENABLED', 'maybe'],
      ['SSR_ENABLED', 'y'],
      ['SC_SSR_EGL', '2'],
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
      const problem = oneProblem({ PORT: '11010' });
      expect(problem).toContain('PORT 11010');
      expect(problem).toContain('SC_PORT_BASE');
      expect(problem).toContain('SC_PORT_COUNT');
      // Just outside the range (11000..11063 by default) is fine.
      expect(parseAppConfig({ PORT: '11064' }).port).toBe(11064);
      expect(parseAppConfig({ PORT: '10999' }).port).toBe(10999);
      expect(problemsOf({ PORT: '11000' })).toHaveLength(1);
      expect(problemsOf({ PORT: '11063' })).toHaveLength(1);
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

    it('warm pools: sizes are whole numbers, their sum fits SC_MAX_SPAWNS, a disabled renderer has none', () => {
      expect(oneProblem({ SC_WARM_POOL_CSR: '-1' })).toBe(
        'SC_WARM_POOL_CSR must be a whole number from 0 to 10000, got "-1"',
      );
      expect(oneProblem({ SC_MAX_SPAWNS: '4', SC_WARM_POOL_CSR: '3', SC_WARM_POOL_SSR: '2' })).toBe(
        'SC_WARM_POOL_CSR + SC_WARM_POOL_SSR (3 + 2) must not exceed SC_MAX_SPAWNS (4): warm servers hold spawn slots',
      );
      expect(oneProblem({ SSR_ENABLED: 'false', SC_WARM_POOL_SSR: '1' })).toBe(
        'SC_WARM_POOL_SSR must be 0 when SSR_ENABLED=false',
      );
      expect(oneProblem({ CSR_ENABLED: 'false', SC_WARM_POOL_CSR: '1' })).toBe(
        'SC_WARM_POOL_CSR must be 0 when CSR_ENABLED=false',
      );
      expect(oneProblem({ SC_WARM_MAX_AGE_S: '0' })).toContain('SC_WARM_MAX_AGE_S must be a number of seconds');
    });

    it('reports every problem at once', () => {
      const problems = problemsOf({ PORT: 'x', SC_MAX_SPAWNS: '0', CSR_ENABLED: 'perhaps', KILL_GRACE_S: '-1' });
      expect(problems).toHaveLength(4);
      expect(problems.join('\n')).toMatch(/PORT[\s\S]*SC_MAX_SPAWNS[\s\S]*KILL_GRACE_S[\s\S]*CSR_ENABLED/);
    });
  });

  describe('hardening settings', () => {
    it.each(['0', '1023', '17mb', '1gb', 'lots', '64 KB x'])('BODY_LIMIT=%j', (raw) => {
      expect(oneProblem({ BODY_LIMIT: raw })).toBe(
        `BODY_LIMIT must be a size from 1kb to 16mb (e.g. 65536, 64kb, 1mb), got ${JSON.stringify(raw)}`,
      );
    });

    it.each(['SC_LICENSE', 'PORT', 'SC_LICENSE_FILE', 'SC_NICE'])('SC_CHILD_ENV naming the setting %s', (name) => {
      expect(oneProblem({ SC_CHILD_ENV: name })).toBe(
        `SC_CHILD_ENV may not pass ${name} on: it is a setting of this service, never given to a server`,
      );
    });

    it.each(['1BAD', 'A-B', '*', 'A*B', 'A=B'])('SC_CHILD_ENV entry %j', (entry) => {
      expect(oneProblem({ SC_CHILD_ENV: entry })).toMatch(/^SC_CHILD_ENV entries must be variable names/);
    });

    it.each(['--license-file=/etc/shadow', 'KEY\nMORE'])('SC_LICENSE=%j (it goes on the command line)', (key) => {
      expect(oneProblem({ SC_EXECUTABLE: '/x', SC_LICENSE: key })).toMatch(
        /^SC_LICENSE (starts with '-'|contains a NUL or a line break)/,
      );
    });
  });
});

describe('parseAppConfig: access, rate limit and logs', () => {
  it('API_KEYS and API_KEYS_FILE together', () => {
    expect(oneProblem({ API_KEYS: 'k3y-0123456789abcdef', API_KEYS_FILE: '/keys' })).toMatch(/both set/);
  });

  it('API_KEYS with a short key, or none', () => {
    expect(oneProblem({ API_KEYS: 'short' })).toMatch(/at least 16 characters/);
    // A client could never present it: Node.js reads header bytes as Latin-1, so the UTF-8 é never matches.
    expect(oneProblem({ API_KEYS: 'clé-0123456789abcdef' })).toMatch(/printable ASCII/);
    expect(oneProblem({ API_KEYS: ' , ' })).toMatch(/holds no key/);
  });

  it('SPAWN_AUTH=required without keys, or an unknown value', () => {
    expect(oneProblem({ SPAWN_AUTH: 'required' })).toMatch(/needs API_KEYS/);
    expect(oneProblem({ SPAWN_AUTH: 'maybe' })).toMatch(/SPAWN_AUTH must be one of open, required/);
  });

  it.each(['30', '30/', '0/60s', '30/60x', 'lots', '30/0s'])('SPAWN_RATE_LIMIT=%s', (value) => {
    expect(oneProblem({ SPAWN_RATE_LIMIT: value })).toMatch(
      /SPAWN_RATE_LIMIT must be <requests>\/<period> such as 30\/60s/,
    );
  });

  it('LOG_LEVEL and LOG_FORMAT list what is allowed', () => {
    expect(oneProblem({ LOG_LEVEL: 'verbose' })).toMatch(
      /LOG_LEVEL must be one of fatal, error, warn, info, debug, trace/,
    );
    expect(oneProblem({ LOG_FORMAT: 'xml' })).toMatch(/LOG_FORMAT must be one of json, pretty/);
  });

  it('CORS_ORIGINS entries must be origins', () => {
    for (const value of [
      'https://a.example/path',
      'https://a.example/?q',
      'https://a.example#x',
      'https://u@a.example',
      'ftp://a.example',
    ])
      expect(oneProblem({ CORS_ORIGINS: value })).toMatch(/CORS_ORIGINS must be \* or origins/);
  });
});

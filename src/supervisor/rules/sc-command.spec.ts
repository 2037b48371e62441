import { readFileSync } from 'fs';
import * as path from 'path';
import { parseArgv, missingRequiredOptions } from '@app/sc-protocol';
import { AppConfig, parseAppConfig, SIMULATOR_DUMMY_LICENSE } from '../../config';
import { buildScCommand, CHILD_ENV_ALLOW_LIST, childEnvironment, redactArgs } from './sc-command';
import { SpawnSpec } from './spawn-record';

const ENDPOINT = 'http://127.0.0.1:11182/liveliness';
const EXE = '/opt/hoops/bin/linux64/ts3d_sc_server';

function config(env: Record<string, string> = {}): AppConfig {
  return parseAppConfig({ SC_MODEL_DIRS: '/models/a:/models/b', ...env });
}

function spec(overrides: Partial<SpawnSpec> = {}): SpawnSpec {
  return {
    id: '2b6f0cc4-6c1e-4d4e-9d55-3f0d6a2b7c11',
    wsPort: 55007,
    rendererType: 'csr',
    origin: 'api',
    ...overrides,
  };
}

/** Splits the argv into the managed part (parsed back through sc-protocol) and what follows it. */
function parsed(args: string[]) {
  return parseArgv(args);
}

describe('buildScCommand', () => {
  describe('argv', () => {
    it('carries id, port, liveliness settings and the configured timings, and is a complete command line', () => {
      const cfg = config({ SC_LIVELINESS_INTERVAL_S: '2.5', SC_INITIAL_USE_DURATION_S: '45' });
      const command = buildScCommand(cfg, spec(), ENDPOINT, {});
      const options = parsed(command.args);
      expect(options.id).toBe('2b6f0cc4-6c1e-4d4e-9d55-3f0d6a2b7c11');
      expect(options.scPort).toBe(55007);
      expect(options.livelinessEndpoint).toBe(ENDPOINT);
      expect(options.livelinessUpdateFrequency).toBe(2.5);
      expect(options.initialUseDuration).toBe(45);
      expect(missingRequiredOptions(options)).toEqual([]);
      expect(command.executable).toBe(cfg.scExecutable);
      // Options are separate argv items, never a shell string.
      const i = command.args.indexOf('--sc-port');
      expect(command.args[i + 1]).toBe('55007');
      expect(command.args[command.args.indexOf('--liveliness-update-frequency') + 1]).toBe('2.5');
    });

    it('uses the default timings (5 s pings, 60 s initial use)', () => {
      const options = parsed(buildScCommand(config(), spec(), ENDPOINT, {}).args);
      expect(options.livelinessUpdateFrequency).toBe(5);
      expect(options.initialUseDuration).toBe(60);
    });

    it('a warm server waits up to SC_WARM_MAX_AGE_S unclaimed, then gives its claimant the full initial use', () => {
      const cfg = config({ SC_WARM_MAX_AGE_S: '600', SC_INITIAL_USE_DURATION_S: '45' });
      const options = parsed(buildScCommand(cfg, spec({ warm: true }), ENDPOINT, {}).args);
      expect(options.initialUseDuration).toBe(645);
      expect(options.modelFile).toBeUndefined();
      expect(options.sessionToken).toBeUndefined();
    });

    it('csr: --csr true, no --ssr, no SSR-only options', () => {
      const cfg = config({ SC_SSR_GPU_INDEX: '1', SC_SSR_EGL: 'true' });
      const command = buildScCommand(cfg, spec({ rendererType: 'csr' }), ENDPOINT, {});
      const options = parsed(command.args);
      expect(options.csr).toBe(true);
      expect(options.ssr).toBeUndefined();
      expect(options.ssrGpuIndex).toBeUndefined();
      expect(options.ssrEgl).toBeUndefined();
      expect(command.args).not.toContain('--ssr');
    });

    it('ssr: --ssr true, no --csr, GPU index when configured', () => {
      const options = parsed(
        buildScCommand(config({ SC_SSR_GPU_INDEX: '2' }), spec({ rendererType: 'ssr' }), ENDPOINT, {}).args,
      );
      expect(options.ssr).toBe(true);
      expect(options.csr).toBeUndefined();
      expect(options.ssrGpuIndex).toBe(2);
      expect(options.ssrEgl).toBeUndefined();
    });

    it('ssr: the GPU chosen for the spawn (spec.gpuIndex) is passed; a CSR spawn never gets one', () => {
      const chosen = parsed(
        buildScCommand(config({ SC_SSR_GPU_COUNT: '4' }), spec({ rendererType: 'ssr', gpuIndex: 3 }), ENDPOINT, {})
          .args,
      );
      expect(chosen.ssrGpuIndex).toBe(3);
      const csr = buildScCommand(config({ SC_SSR_GPU_COUNT: '4' }), spec({ gpuIndex: 3 }), ENDPOINT, {}).args;
      expect(csr).not.toContain('--ssr-gpu-index');
    });

    it('model search directories: the configured ones in order', () => {
      const options = parsed(buildScCommand(config(), spec(), ENDPOINT, {}).args);
      expect(options.modelSearchDirectories).toEqual(['/models/a', '/models/b']);
    });

    it("model search directories: the client's first, then the configured ones, without duplicates", () => {
      const command = buildScCommand(
        config(),
        spec({ extraModelDirs: ['/models/b/sub', '/models/b', '/models/b/sub'] }),
        ENDPOINT,
        {},
      );
      const options = parsed(command.args);
      expect(options.modelSearchDirectories).toEqual(['/models/b/sub', '/models/b', '/models/a']);
      expect(command.args[command.args.indexOf('--model-search-directories') + 1]).toBe(
        '/models/b/sub;/models/b;/models/a',
      );
    });

    it('the simulator sample models are searched by default', () => {
      const cfg = parseAppConfig({});
      const options = parsed(buildScCommand(cfg, spec(), ENDPOINT, {}).args);
      expect(options.modelSearchDirectories).toEqual([path.resolve(__dirname, '../../../apps/sc-server-sim/models')]);
    });

    it('--model-file and --session-token only when given', () => {
      const without = buildScCommand(config(), spec(), ENDPOINT, {}).args;
      expect(without).not.toContain('--model-file');
      expect(without).not.toContain('--session-token');
      const options = parsed(
        buildScCommand(config(), spec({ model: 'sub/microengine', sessionToken: 'tok-123' }), ENDPOINT, {}).args,
      );
      expect(options.modelFile).toBe('sub/microengine');
      expect(options.sessionToken).toBe('tok-123');
    });

    it('license file: --license-file only', () => {
      const cfg = config({ SC_EXECUTABLE: EXE, SC_LICENSE_FILE: '/etc/hoops/license.txt' });
      const options = parsed(buildScCommand(cfg, spec(), ENDPOINT, {}).args);
      expect(options.licenseFile).toBe('/etc/hoops/license.txt');
      expect(options.license).toBeUndefined();
    });

    it('license key: --license only', () => {
      const cfg = config({ SC_EXECUTABLE: EXE, SC_LICENSE: 'KEY-abc' });
      const options = parsed(buildScCommand(cfg, spec(), ENDPOINT, {}).args);
      expect(options.license).toBe('KEY-abc');
      expect(options.licenseFile).toBeUndefined();
    });

    it('the simulator gets its dummy license file', () => {
      const options = parsed(buildScCommand(config(), spec(), ENDPOINT, {}).args);
      expect(options.licenseFile).toBe(SIMULATOR_DUMMY_LICENSE);
    });

    it('workspace: --workspace-dir and cwd when configured, neither otherwise', () => {
      const without = buildScCommand(config(), spec(), ENDPOINT, {});
      expect(without.args).not.toContain('--workspace-dir');
      expect(without.cwd).toBeUndefined();
      const withWs = buildScCommand(config({ SC_WORKSPACE_DIR: '/var/tmp/sc' }), spec(), ENDPOINT, {});
      expect(parsed(withWs.args).workspaceDir).toBe('/var/tmp/sc');
      expect(withWs.cwd).toBe('/var/tmp/sc');
    });

    it('SC_EXTRA_ARGS are appended after the managed options, verbatim', () => {
      const cfg = config({ SC_EXTRA_ARGS: '--sc-verbose-logging true --log-file=/tmp/sc.log' });
      const command = buildScCommand(cfg, spec(), ENDPOINT, {});
      expect(command.args.slice(-3)).toEqual(['--sc-verbose-logging', 'true', '--log-file=/tmp/sc.log']);
      const options = parsed(command.args);
      expect(options.scVerboseLogging).toBe(true);
      expect(options.logFile).toBe('/tmp/sc.log');
      expect(options.id).toBe(spec().id);
    });

    it('refuses a model directory the server could not receive', () => {
      expect(() => buildScCommand(config(), spec({ extraModelDirs: ['/models/x;y'] }), ENDPOINT, {})).toThrow(
        /--model-search-directories/,
      );
    });
  });

  describe('environment', () => {
    const SERVICE_ENV = {
      PATH: '/usr/bin',
      HOME: '/home/sc',
      LANG: 'en_US.UTF-8',
      LC_ALL: 'C',
      LC_NUMERIC: 'C',
      TZ: 'UTC',
      TMPDIR: '/tmp',
      XAUTHORITY: '/home/sc/.Xauthority',
      __GLX_VENDOR_LIBRARY_NAME: 'nvidia',
      __EGL_VENDOR_LIBRARY_FILENAMES: '/x.json',
      __NV_PRIME_RENDER_OFFLOAD: '1',
      NVIDIA_VISIBLE_DEVICES: 'all',
      CUDA_VISIBLE_DEVICES: '0',
      SC_LICENSE: 'KEY-secret',
      SC_LICENSE_FILE: '/etc/l',
      PORT: '11182',
      NODE_ENV: 'production',
      NODE_OPTIONS: '--inspect',
      AWS_SECRET_ACCESS_KEY: 'aws',
      DATABASE_URL: 'postgres://',
      npm_config_token: 't',
    };

    it('passes only the allow-list: never the license, the settings or anything else of the service', () => {
      const cfg = config({ SC_EXECUTABLE: EXE, SC_LICENSE: 'KEY-secret' });
      const { env } = buildScCommand(cfg, spec(), ENDPOINT, SERVICE_ENV);
      expect(env).toEqual({
        PATH: '/usr/bin',
        HOME: '/home/sc',
        LANG: 'en_US.UTF-8',
        LC_ALL: 'C',
        LC_NUMERIC: 'C',
        TZ: 'UTC',
        TMPDIR: '/tmp',
        XAUTHORITY: '/home/sc/.Xauthority',
        __GLX_VENDOR_LIBRARY_NAME: 'nvidia',
        __EGL_VENDOR_LIBRARY_FILENAMES: '/x.json',
        __NV_PRIME_RENDER_OFFLOAD: '1',
        NVIDIA_VISIBLE_DEVICES: 'all',
        CUDA_VISIBLE_DEVICES: '0',
        LD_LIBRARY_PATH: '/opt/hoops/bin/linux64',
      });
      // The key still reaches the server, on its command line only.
      expect(parsed(buildScCommand(cfg, spec(), ENDPOINT, SERVICE_ENV).args).license).toBe('KEY-secret');
    });

    it('SC_CHILD_ENV adds names and prefixes, but never one of the service settings', () => {
      const cfg = config({ SC_CHILD_ENV: 'DATABASE_URL, npm_config_*' });
      const { env } = buildScCommand(cfg, spec(), ENDPOINT, SERVICE_ENV);
      expect(env.DATABASE_URL).toBe('postgres://');
      expect(env.npm_config_token).toBe('t');
      expect(env.AWS_SECRET_ACCESS_KEY).toBeUndefined();
      // A prefix that covers settings passes none of them.
      const wide = childEnvironment(SERVICE_ENV, ['SC_*', 'P*'], config().settingNames);
      expect(wide.SC_LICENSE).toBeUndefined();
      expect(wide.SC_LICENSE_FILE).toBeUndefined();
      expect(wide.PORT).toBeUndefined();
      expect(wide.PATH).toBe('/usr/bin');
    });

    it('the allow-list is documented in docs/configuration.md, name for name', () => {
      const readme = readFileSync(path.join(__dirname, '../../../docs/configuration.md'), 'utf8');
      for (const name of CHILD_ENV_ALLOW_LIST) expect(readme).toContain(`\`${name}\``);
    });

    it('runs the server at SC_NICE (10 by default, 0 to leave it)', () => {
      expect(buildScCommand(config(), spec(), ENDPOINT, {}).placement.nice).toBe(10);
      expect(buildScCommand(config({ SC_NICE: '0' }), spec(), ENDPOINT, {}).placement.nice).toBe(0);
      expect(buildScCommand(config({ SC_NICE: '19' }), spec(), ENDPOINT, {}).placement.nice).toBe(19);
    });

    it('sets LD_LIBRARY_PATH to the executable folder when none is set', () => {
      const cfg = config({ SC_EXECUTABLE: EXE, SC_LICENSE_FILE: '/l' });
      const { env } = buildScCommand(cfg, spec(), ENDPOINT, { PATH: '/usr/bin' });
      expect(env.LD_LIBRARY_PATH).toBe('/opt/hoops/bin/linux64');
      expect(env.PATH).toBe('/usr/bin');
    });

    it('prepends the executable folder to an existing LD_LIBRARY_PATH', () => {
      const cfg = config({ SC_EXECUTABLE: EXE, SC_LICENSE_FILE: '/l' });
      const base = { LD_LIBRARY_PATH: '/usr/local/lib:/opt/lib' };
      const { env } = buildScCommand(cfg, spec(), ENDPOINT, base);
      expect(env.LD_LIBRARY_PATH).toBe('/opt/hoops/bin/linux64:/usr/local/lib:/opt/lib');
      expect(base.LD_LIBRARY_PATH).toBe('/usr/local/lib:/opt/lib'); // the base env is not mutated
    });

    it('csr leaves DISPLAY as it is (set or not)', () => {
      expect(buildScCommand(config({ DISPLAY: ':7' }), spec(), ENDPOINT, { DISPLAY: ':3' }).env.DISPLAY).toBe(':3');
      expect('DISPLAY' in buildScCommand(config(), spec(), ENDPOINT, {}).env).toBe(false);
    });

    it("ssr sets DISPLAY to ':0' by default", () => {
      const command = buildScCommand(config(), spec({ rendererType: 'ssr' }), ENDPOINT, {});
      expect(command.env.DISPLAY).toBe(':0');
      expect(parsed(command.args).ssrEgl).toBeUndefined();
    });

    it('ssr sets DISPLAY to the configured display, overriding the inherited one', () => {
      const command = buildScCommand(config({ DISPLAY: ':5' }), spec({ rendererType: 'ssr' }), ENDPOINT, {
        DISPLAY: ':9',
      });
      expect(command.env.DISPLAY).toBe(':5');
    });

    it('ssr with SC_SSR_EGL removes DISPLAY and passes --ssr-egl true', () => {
      const base = { DISPLAY: ':1' };
      const command = buildScCommand(config({ SC_SSR_EGL: 'true' }), spec({ rendererType: 'ssr' }), ENDPOINT, base);
      expect('DISPLAY' in command.env).toBe(false);
      expect(base.DISPLAY).toBe(':1');
      const options = parsed(command.args);
      expect(options.ssrEgl).toBe(true);
      expect(options.ssr).toBe(true);
    });
  });
});

describe('redactArgs', () => {
  it('hides --license and --session-token values given as separate items', () => {
    const args = ['--id', 'x', '--license', 'SECRET-KEY', '--session-token', 'tok', '--model-file', 'm'];
    expect(redactArgs(args)).toEqual(['--id', 'x', '--license', '***', '--session-token', '***', '--model-file', 'm']);
    expect(args[3]).toBe('SECRET-KEY'); // the input is not mutated
  });

  it('hides --license= and --session-token= values', () => {
    expect(redactArgs(['--license=SECRET-KEY', '--session-token=tok', '--log-file=/tmp/l'])).toEqual([
      '--license=***',
      '--session-token=***',
      '--log-file=/tmp/l',
    ]);
  });

  it('leaves --license-file (a path) visible', () => {
    expect(redactArgs(['--license-file', '/etc/l.txt'])).toEqual(['--license-file', '/etc/l.txt']);
  });

  it('redacts the real command built with a license key and a session token', () => {
    const cfg = config({ SC_EXECUTABLE: EXE, SC_LICENSE: 'KEY-abc' });
    const args = buildScCommand(cfg, spec({ sessionToken: 'tok-123' }), ENDPOINT, {}).args;
    const shown = redactArgs(args).join(' ');
    expect(shown).not.toContain('KEY-abc');
    expect(shown).not.toContain('tok-123');
    expect(shown).toContain('--license ***');
    expect(shown).toContain('--session-token ***');
    expect(shown).toContain('--sc-port 55007');
  });
});

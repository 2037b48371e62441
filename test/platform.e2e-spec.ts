/**
 * The platform: Node.js 24 LTS is the one runtime, and the build holds what the service looks for. These are the
 * things the move to Nest 12 could break without any other test noticing: an older Node.js starting the build
 * directly, the wrapper that puts `npm start` and `npm test` on Node.js 24, and where Nest CLI 12 copies assets.
 */
import { execFile } from 'child_process';
import { accessSync, constants, existsSync, statSync } from 'fs';
import * as path from 'path';
import { promisify } from 'util';
import { REPO_ROOT, SERVICE_MAIN } from './support/spawner-app';

const run = promisify(execFile);
/** An older Node.js than the service runs on, from the npm registry's node package (npx caches it). */
const OLDER_NODE = 'node@20';
const NPX_TIMEOUT_MS = 120_000;

async function onOlderNode(args: string[], cwd = REPO_ROOT): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('npx', ['--yes', `--package=${OLDER_NODE}`, '--', ...args], {
      cwd,
      timeout: NPX_TIMEOUT_MS,
      env: { ...process.env, npm_config_update_notifier: 'false' },
    });
    return { code: 0, stdout, stderr: withoutNpmWarnings(stderr) };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    if (typeof failed.code !== 'number') throw error;
    return { code: failed.code, stdout: failed.stdout ?? '', stderr: withoutNpmWarnings(failed.stderr ?? '') };
  }
}

/** npx's own warnings (e.g. about npm settings in the environment of the npm that runs these tests) are npx's, not ours. */
function withoutNpmWarnings(stderr: string): string {
  return stderr
    .split('\n')
    .filter((line) => !line.startsWith('npm warn '))
    .join('\n');
}

describe('platform (e2e)', () => {
  it(
    'the older Node.js used below really is older than 24',
    async () => {
      const { stdout } = await onOlderNode(['node', '-p', 'process.versions.node']);
      expect(Number(stdout.trim().split('.')[0])).toBeLessThan(24);
    },
    NPX_TIMEOUT_MS,
  );

  it(
    'node dist/src/main.js on an older Node.js stops at once: exit 1, one line naming Node.js 24, no stack trace',
    async () => {
      const result = await onOlderNode(['node', SERVICE_MAIN]);
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      const lines = result.stderr.trimEnd().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^sc-spawner: needs Node\.js 24 LTS \(24\.9 or later\); this is Node\.js v20\./);
      expect(result.stderr).not.toMatch(/\bat .*\.js:\d+/);
    },
    NPX_TIMEOUT_MS,
  );

  it(
    'scripts/node24.sh runs a command on Node.js 24 from the registry when the machine has an older one, saying so in one line',
    async () => {
      const result = await onOlderNode(['bash', 'scripts/node24.sh', 'node', '-p', 'process.version']);
      expect(result.code).toBe(0);
      expect(result.stdout.trim()).toMatch(/^v24\.\d+\.\d+$/);
      const lines = result.stderr.trimEnd().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^sc-spawner: this machine has Node\.js v20\.[\d.]+; running on Node\.js 24 LTS/);
    },
    NPX_TIMEOUT_MS,
  );

  it('scripts/node24.sh on Node.js 24 runs the command as it is, silently', async () => {
    expect(Number(process.versions.node.split('.')[0])).toBe(24);
    const { stdout, stderr } = await run('bash', ['scripts/node24.sh', 'node', '-p', 'process.execPath'], {
      cwd: REPO_ROOT,
    });
    expect(stdout.trim()).toBe(process.execPath);
    expect(stderr).toBe('');
  });

  describe('the build (dist/) holds the dashboard and the simulator where the service looks for them', () => {
    const dist = path.join(REPO_ROOT, 'dist');

    it('the paths the built service computes exist', () => {
      // The built modules themselves say where they look (their __dirname is inside dist/).
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const bundled = require(path.join(dist, 'src/config/bundled-files.js')) as Record<string, string>;
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const dashboard = require(path.join(dist, 'src/dashboard/dashboard-assets.js')) as {
        DASHBOARD_PUBLIC_DIR: string;
        DASHBOARD_ASSETS: Record<string, string>;
      };
      expect(bundled.BUNDLED_SIMULATOR.startsWith(dist)).toBe(true);
      accessSync(bundled.BUNDLED_SIMULATOR, constants.X_OK);
      expect(statSync(bundled.SIMULATOR_DUMMY_LICENSE).isFile()).toBe(true);
      expect(statSync(bundled.SIMULATOR_SAMPLE_MODELS).isDirectory()).toBe(true);
      expect(dashboard.DASHBOARD_PUBLIC_DIR).toBe(path.join(dist, 'src/dashboard/public'));
      for (const file of ['index.html', ...Object.keys(dashboard.DASHBOARD_ASSETS)]) {
        expect({ file, exists: existsSync(path.join(dashboard.DASHBOARD_PUBLIC_DIR, file)) }).toEqual({
          file,
          exists: true,
        });
      }
      expect(existsSync(path.join(dist, 'apps/sc-server-sim/src/main.js'))).toBe(true);
    });

    it('no asset was copied to a doubled path (Nest CLI 12 keeps the source folder under each outDir)', () => {
      for (const doubled of ['src/src', 'apps/apps', 'src/apps']) {
        expect({ doubled, exists: existsSync(path.join(dist, doubled)) }).toEqual({ doubled, exists: false });
      }
    });
  });
});

/**
 * End to end, the built service as a real process: settings that parse but are probably mistakes get a warning at
 * start-up (a misspelled name, with the nearest known one; WebSocket ports inside the machine's ephemeral range),
 * a bad value from `.env` is said to come from there, and the effective settings are one JSON line. Files another
 * local user could change (`.env`, the servers' certificate and key) stop start-up; ones they could read or fill
 * (a `.env` giving a secret, the key, a model folder) are warned of.
 */
import { spawn } from 'child_process';
import { chmodSync, chownSync, mkdirSync, readFileSync, writeFileSync } from 'fs';
import { join } from 'path';
import { freePort } from './support/ports';
import { useCleanup } from './support/processes';
import { SERVICE_MAIN, startServiceProcess } from './support/spawner-app';
import { makeTempDir } from './support/temp';
import { tlsFiles } from './support/tls-fixture';
import { withTimeout } from './support/wait';

const PORT_BASE = 29550;

interface LogLine {
  level: string;
  msg: string;
  settings?: Record<string, { value?: string; source: string }>;
}

function logLines(output: string[]): LogLine[] {
  return output
    .join('')
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogLine);
}

describe('start-up advice on settings (e2e)', () => {
  const cleanup = useCleanup();

  it('warns about a misspelled setting with the nearest name, and reports every setting once as one JSON line', async () => {
    const service = await startServiceProcess(await freePort(), {
      SC_PORT_BASE: String(PORT_BASE),
      SC_MAX_SPAWN: '3',
      HOOPS_CONFG: '/etc/hoops/Config.js',
      LOG_LEVEL: 'info',
    });
    cleanup.add(() => service.stop());
    const lines = logLines(service.output);
    const warnings = lines.filter((line) => line.level === 'warn').map((line) => line.msg);
    expect(warnings).toEqual(
      expect.arrayContaining([
        'SC_MAX_SPAWN is not a setting of sc-spawner and is ignored: did you mean SC_MAX_SPAWNS?',
        'HOOPS_CONFG is not a setting of sc-spawner and is ignored: did you mean HOOPS_CONFIG?',
      ]),
    );
    expect(warnings.some((msg) => msg.includes('ephemeral port range'))).toBe(false);

    const reports = lines.filter((line) => line.msg === 'effective settings');
    expect(reports).toHaveLength(1);
    const settings = reports[0].settings!;
    expect(settings.SC_PORT_BASE).toEqual({ value: String(PORT_BASE), source: 'env' });
    expect(settings.SC_MAX_SPAWNS).toEqual({ value: '32', source: 'default' });
    for (const name of ['HOST', 'BODY_LIMIT', 'NODE_NAME', 'SC_STATE_DIR', 'SC_EXECUTABLE'])
      expect(settings[name].value).toEqual(expect.any(String));
    // Nest's start-up chatter is at debug: nothing buries the settings.
    expect(lines.filter((line) => /dependencies initialized|Mapped \{/.test(line.msg))).toEqual([]);
  });

  it("warns when the WebSocket ports lie in the machine's ephemeral range", async () => {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    // No server is started here, so these ports are never bound.
    const base = low + 100;
    const service = await startServiceProcess(await freePort(), { SC_PORT_BASE: String(base), SC_PORT_COUNT: '10' });
    cleanup.add(() => service.stop());
    const warnings = logLines(service.output)
      .filter((line) => line.level === 'warn')
      .map((line) => line.msg);
    expect(warnings).toContain(
      `SC_PORT_BASE..+SC_PORT_COUNT (${base}-${base + 9}) overlaps this machine's ephemeral port range ${low}-${high} ` +
        `(/proc/sys/net/ipv4/ip_local_port_range): outgoing connections may take a server's port; choose ports below ${low}`,
    );
  });

  it('warns when the servers serve wss:// without PUBLIC_HOSTNAME, and not once it is set', async () => {
    const tls = {
      SC_PORT_BASE: String(PORT_BASE),
      SC_PORT_COUNT: '10',
      SC_EXTRA_ARGS: JSON.stringify(tlsFiles(cleanup).args),
    };
    const warned = async (env: Record<string, string>): Promise<boolean> => {
      const service = await startServiceProcess(await freePort(), { ...tls, ...env });
      cleanup.add(() => service.stop());
      return logLines(service.output).some(
        (line) => line.level === 'warn' && line.msg.startsWith('the servers serve wss:// but PUBLIC_HOSTNAME'),
      );
    };
    expect(await warned({})).toBe(true);
    expect(await warned({ PUBLIC_HOSTNAME: 'viewer.example.com' })).toBe(false);
  });

  /** The built service started with `.env` read from `folder`: its exit code and stderr once it refused to start. */
  async function refusal(
    folder: string,
    env: Record<string, string> = {},
  ): Promise<{ code: number | null; stderr: string }> {
    const child = spawn(process.execPath, [SERVICE_MAIN], {
      env: {
        ...process.env,
        ...env,
        NODE_ENV: 'test',
        SPAWNER_DOTENV_DIR: folder,
        PORT: String(await freePort()),
        SC_PORT_BASE: String(PORT_BASE),
        // Where its lock would go, had it started (a test failing so): not the temp folder's sc-spawner-<PORT>.
        SC_STATE_DIR: makeTempDir(cleanup),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    cleanup.trackChild(child);
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await withTimeout(
      new Promise<number | null>((resolve) => child.once('close', resolve)),
      15_000,
      'the service to refuse to start',
    );
    return { code, stderr };
  }

  it('a bad value from .env stops start-up naming .env; a good one is reported with source .env', async () => {
    const folder = makeTempDir(cleanup);
    writeFileSync(join(folder, '.env'), 'SC_MAX_SPAWNS=lots\nSC_NICE=0\n');
    expect(await refusal(folder)).toEqual({
      code: 1,
      stderr:
        'sc-spawner: Invalid configuration:\n' +
        `  - SC_MAX_SPAWNS must be a whole number from 1 to 10000, got "lots" (from .env ${join(folder, '.env')})\n`,
    });

    writeFileSync(join(folder, '.env'), 'SC_MAX_SPAWNS=3\n');
    const service = await startServiceProcess(await freePort(), {
      SPAWNER_DOTENV_DIR: folder,
      SC_PORT_BASE: String(PORT_BASE),
      LOG_LEVEL: 'info',
    });
    cleanup.add(() => service.stop());
    const report = logLines(service.output).find((line) => line.msg === 'effective settings');
    expect(report?.settings?.SC_MAX_SPAWNS).toEqual({ value: '3', source: '.env' });
  });

  it('a .env another user could change stops start-up with one line saying why (it could add a key or a server)', async () => {
    const refused = (file: string, why: string) => ({
      code: 1,
      stderr: `sc-spawner: Invalid configuration:\n  - .env ${file} cannot be read: ${why}\n`,
    });
    const folder = makeTempDir(cleanup);
    const file = join(folder, '.env');
    writeFileSync(file, `API_KEYS=${'k'.repeat(24)}\nSC_NICE=0\n`);
    chmodSync(file, 0o666);
    expect(await refusal(folder)).toEqual(
      refused(file, 'it is writable by group or others (mode 0666): chmod go-w it'),
    );

    chmodSync(file, 0o644);
    const shared = join(folder, 'shared');
    mkdirSync(shared);
    chmodSync(shared, 0o777);
    writeFileSync(join(shared, '.env'), 'SC_NICE=0\n');
    expect(await refusal(shared)).toEqual(
      refused(
        join(shared, '.env'),
        `it is reached through ${shared}, which is writable by group or others without the sticky bit (mode 777)`,
      ),
    );
    if (process.getuid!() !== 0) return; // only root can give a file to another user
    chownSync(file, 65534, 65534);
    expect(await refusal(folder)).toEqual(refused(file, "it belongs to uid 65534, not to root or the service's user"));
  });

  it("the servers' certificate or key another user could change stops start-up; a key all may read is warned of", async () => {
    const tls = tlsFiles(cleanup);
    const env = { SC_PORT_BASE: String(PORT_BASE), SC_PORT_COUNT: '10', SC_EXTRA_ARGS: JSON.stringify(tls.args) };
    chmodSync(tls.key, 0o666);
    expect(await refusal(makeTempDir(cleanup), env)).toEqual({
      code: 1,
      stderr:
        'sc-spawner: Invalid configuration:\n' +
        `  - SC_EXTRA_ARGS --ssl-private-key-file ${tls.key} cannot be used: it is writable by group or others ` +
        '(mode 0666): chmod go-w it\n',
    });

    chmodSync(tls.key, 0o644);
    const service = await startServiceProcess(await freePort(), env);
    cleanup.add(() => service.stop());
    const warnings = logLines(service.output)
      .filter((line) => line.level === 'warn')
      .map((line) => line.msg);
    expect(warnings).toContain(
      `SC_EXTRA_ARGS --ssl-private-key-file ${tls.key} is readable by every local user (mode 0644): chmod o-r it: ` +
        'any of them could pose as the servers',
    );
  });

  it('warns of a model folder every local user may write to, and not of one only its owner may', async () => {
    const open = makeTempDir(cleanup);
    const own = makeTempDir(cleanup);
    chmodSync(open, 0o1777);
    const service = await startServiceProcess(await freePort(), {
      SC_PORT_BASE: String(PORT_BASE),
      SC_PORT_COUNT: '10',
      SC_MODEL_DIRS: `${open}:${own}`,
    });
    cleanup.add(() => service.stop());
    const warnings = logLines(service.output)
      .filter((line) => line.level === 'warn' && line.msg.startsWith('SC_MODEL_DIRS'))
      .map((line) => line.msg);
    expect(warnings).toEqual([
      `SC_MODEL_DIRS ${open} is writable by every local user (mode 1777): any of them may add or replace the models ` +
        'viewers open, or link there to files the servers can read; chmod o-w it',
    ]);
  });

  it('warns of a model folder in a folder every local user may write to without the sticky bit', async () => {
    const parent = makeTempDir(cleanup);
    const models = join(parent, 'models');
    mkdirSync(models, { mode: 0o755 });
    chmodSync(parent, 0o777);
    const service = await startServiceProcess(await freePort(), {
      SC_PORT_BASE: String(PORT_BASE),
      SC_PORT_COUNT: '10',
      SC_MODEL_DIRS: models,
    });
    cleanup.add(() => service.stop());
    const warnings = logLines(service.output)
      .filter((line) => line.level === 'warn' && line.msg.startsWith('SC_MODEL_DIRS'))
      .map((line) => line.msg);
    expect(warnings).toEqual([
      `SC_MODEL_DIRS ${models} is in ${parent}, which every local user may write to without the sticky bit ` +
        `(mode 0777): any of them may put a folder of theirs, with the models viewers open, in its place; ` +
        `chmod o-w ${parent}`,
    ]);
  });

  it('warns when every local user may read the .env that gives a secret, and not once it is 0600', async () => {
    const folder = makeTempDir(cleanup);
    const file = join(folder, '.env');
    writeFileSync(file, `API_KEYS=${'k'.repeat(24)}\n`);
    chmodSync(file, 0o644);
    const warningsOf = async (): Promise<string[]> => {
      const service = await startServiceProcess(await freePort(), {
        SPAWNER_DOTENV_DIR: folder,
        SC_PORT_BASE: String(PORT_BASE),
        SC_PORT_COUNT: '10',
      });
      cleanup.add(() => service.stop());
      return logLines(service.output)
        .filter((line) => line.level === 'warn' && line.msg.startsWith('.env'))
        .map((line) => line.msg);
    };
    expect(await warningsOf()).toEqual([
      `.env ${file} is readable by every local user (mode 0644): chmod o-r it: it gives API_KEYS`,
    ]);
    chmodSync(file, 0o600);
    expect(await warningsOf()).toEqual([]);
  });

  it('warns of a readable .env holding a secret the environment also sets (the file still gives it away)', async () => {
    const folder = makeTempDir(cleanup);
    const file = join(folder, '.env');
    const key = 'k'.repeat(24);
    writeFileSync(file, `API_KEYS=${key}\n`);
    chmodSync(file, 0o644);
    const service = await startServiceProcess(await freePort(), {
      SPAWNER_DOTENV_DIR: folder,
      API_KEYS: key,
      SC_PORT_BASE: '32400',
      SC_PORT_COUNT: '10',
    });
    cleanup.add(() => service.stop());
    const warnings = logLines(service.output)
      .filter((line) => line.level === 'warn' && line.msg.startsWith('.env'))
      .map((line) => line.msg);
    expect(warnings).toEqual([
      `.env ${file} is readable by every local user (mode 0644): chmod o-r it: it gives API_KEYS`,
    ]);
  });
});

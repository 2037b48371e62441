/**
 * End to end, the built service as a real process: a bad configuration (an executable that is missing, not a
 * file or not executable; a bad value; a setting passed on to servers) stops it at once with exit code 1 and,
 * on stderr, exactly the list of problems: no Nest log line, no stack trace.
 */
import { execFileSync, spawn } from 'child_process';
import { chmodSync, chownSync, mkdirSync, readFileSync, writeFileSync } from 'fs';
import { join } from 'path';
import { LISTEN_BACKLOG } from '../src/http/listen';
import { useCleanup } from './support/processes';
import { freePort } from './support/ports';
import { SERVICE_MAIN } from './support/spawner-app';
import { SIM_EXECUTABLE } from './support/simulator';
import { requireSystemBinary } from './support/system-packages';
import { makeTempDir } from './support/temp';
import { withTimeout } from './support/wait';

interface Refusal {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

describe('start-up refusals (e2e)', () => {
  const cleanup = useCleanup();

  /** Runs the built service with `env` and waits for it to exit by itself (killed at cleanup otherwise). */
  async function runToExit(env: Record<string, string>): Promise<Refusal> {
    const port = await freePort();
    const child = spawn(process.execPath, [SERVICE_MAIN], {
      env: { ...process.env, NODE_ENV: 'test', NO_COLOR: '1', PORT: String(port), HOST: '127.0.0.1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    cleanup.trackChild(child);
    const stdout: string[] = [];
    const stderr: string[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
    const { code, signal } = await withTimeout(
      new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
        child.once('close', (code, signal) => resolve({ code, signal })),
      ),
      15_000,
      'the service to refuse to start',
    );
    return { code, signal, stdout: stdout.join(''), stderr: stderr.join('') };
  }

  function expectRefusal(refusal: Refusal, problems: Array<string | RegExp>): void {
    expect({ code: refusal.code, signal: refusal.signal, stdout: refusal.stdout }).toEqual({
      code: 1,
      signal: null,
      stdout: '',
    });
    const lines = refusal.stderr.split('\n');
    expect(lines[0]).toBe('sc-spawner: Invalid configuration:');
    expect(lines[lines.length - 1]).toBe(''); // ends with a newline, nothing after it
    const listed = lines.slice(1, -1);
    expect(listed).toHaveLength(problems.length);
    problems.forEach((problem, i) => {
      expect(listed[i].startsWith('  - ')).toBe(true);
      if (typeof problem === 'string') expect(listed[i]).toBe(`  - ${problem}`);
      else expect(listed[i]).toMatch(problem);
    });
    expect(refusal.stderr).not.toMatch(/\[Nest\]|ERROR|\s{4}at |Error:/);
  }

  it('SC_EXECUTABLE missing, a folder, or not executable: one line each, exit 1', async () => {
    const dir = makeTempDir(cleanup, 'sc-startup-');
    const license = join(dir, 'license.txt');
    writeFileSync(license, 'dummy\n');
    const missing = join(dir, 'missing_sc_server');
    const folder = join(dir, 'folder');
    mkdirSync(folder);
    const plain = join(dir, 'not_executable');
    writeFileSync(plain, '#!/bin/sh\nexit 0\n');
    chmodSync(plain, 0o644);
    const cases: Array<[string, string]> = [
      [missing, 'does not exist'],
      [folder, 'is not a regular file'],
      [plain, 'is not executable by this user'],
    ];
    for (const [executable, why] of cases) {
      const refusal = await runToExit({ SC_EXECUTABLE: executable, SC_LICENSE_FILE: license });
      expectRefusal(refusal, [`SC_EXECUTABLE must be an executable file: ${executable} ${why}`]);
    }
  });

  it('SC_EXECUTABLE another user could change: one line naming it and why, exit 1, nothing started', async () => {
    const dir = makeTempDir(cleanup, 'sc-startup-');
    chmodSync(dir, 0o755);
    const license = join(dir, 'license.txt');
    writeFileSync(license, 'dummy\n');
    const wrapper = (folder: string, mode = 0o755) => {
      mkdirSync(folder, { recursive: true });
      const file = join(folder, 'ts3d_sc_server');
      writeFileSync(file, `#!/bin/sh\nexec ${SIM_EXECUTABLE} "$@"\n`);
      chmodSync(file, mode);
      return file;
    };
    // Beside it, as in /tmp: the sticky bit keeps the file, but a library any user adds there is every server's
    // (LD_LIBRARY_PATH is its folder), run as the service's user.
    const sticky = join(dir, 'sticky');
    const inSticky = wrapper(sticky);
    chmodSync(sticky, 0o1777);
    const open = wrapper(join(dir, 'open'), 0o777);
    const cases: Array<[string, string]> = [
      [
        inSticky,
        `its folder ${sticky} is writable by group or others (mode 1777): a library put there is loaded by every ` +
          'server (LD_LIBRARY_PATH)',
      ],
      [open, 'it is writable by group or others (mode 0777): chmod go-w it'],
    ];
    for (const [executable, why] of cases) {
      // Refused before anything listens: the port is never bound.
      const refusal = await runToExit({ SC_EXECUTABLE: executable, SC_LICENSE_FILE: license });
      expectRefusal(refusal, [`SC_EXECUTABLE ${executable} could be changed by another user: ${why}`]);
    }
  });

  it("SC_WORKSPACE_DIR missing, or another user's, or open to all: one line naming it and why, exit 1", async () => {
    const dir = makeTempDir(cleanup, 'sc-startup-');
    chmodSync(dir, 0o755);
    const open = join(dir, 'open');
    mkdirSync(open);
    chmodSync(open, 0o777);
    const cases: Array<[string, string]> = [
      [join(dir, 'missing'), 'does not exist'],
      [
        open,
        `could be changed by another user: ${open} is writable by group or others without the sticky bit (mode 777)`,
      ],
    ];
    if (process.getuid?.() === 0) {
      // Made first by another user (nobody), as /tmp/sc-workspace can be: the servers would write in their folder.
      const theirs = join(dir, 'theirs');
      mkdirSync(theirs, { mode: 0o777 });
      chownSync(theirs, 65534, 65534);
      cases.push([
        theirs,
        `could be changed by another user: ${theirs} belongs to uid 65534, who may rename what is in it`,
      ]);
    }
    for (const [workspace, why] of cases) {
      const refusal = await runToExit({ SC_WORKSPACE_DIR: workspace });
      expectRefusal(refusal, [`SC_WORKSPACE_DIR ${workspace} ${why}`]);
    }
  });

  it('every problem at once, each on its line: bad values, a setting named in SC_CHILD_ENV, a bad executable', async () => {
    const refusal = await runToExit({
      SC_EXECUTABLE: '/no/such/ts3d_sc_server',
      SC_LICENSE: '--license-file=/etc/shadow',
      SC_MAX_SPAWNS: 'lots',
      SC_NICE: '20',
      BODY_LIMIT: '1gb',
      SC_CHILD_ENV: 'SC_LICENSE',
    });
    // Listed section by section (listener, servers, capacity, ...; issue 18), each problem on its line.
    expectRefusal(refusal, [
      /^ {2}- BODY_LIMIT must be a size from 1kb to 16mb/,
      /^ {2}- SC_LICENSE starts with '-'/,
      'SC_NICE must be a whole number from 0 to 19, got "20"',
      'SC_MAX_SPAWNS must be a whole number from 1 to 10000, got "lots"',
      'SC_CHILD_ENV may not pass SC_LICENSE on: it is a setting of this service, never given to a server',
      'SC_EXECUTABLE must be an executable file: /no/such/ts3d_sc_server does not exist',
    ]);
  });

  it('a valid configuration still starts (positive control for the refusals above)', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [SERVICE_MAIN], {
      env: {
        ...process.env,
        NODE_ENV: 'test',
        NO_COLOR: '1',
        PORT: String(port),
        HOST: '127.0.0.1',
        SC_EXECUTABLE: SIM_EXECUTABLE,
        SC_LICENSE: 'KEY-ok',
        SC_PORT_BASE: '25200',
        SC_STATE_DIR: makeTempDir(cleanup),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    cleanup.trackChild(child);
    const output: string[] = [];
    child.stdout.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    await withTimeout(
      new Promise<void>((resolve) => {
        const check = () => output.join('').includes('sc-spawner listening on') && resolve();
        child.stdout.on('data', check);
      }),
      15_000,
      'the service to listen',
    );
    expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
    // Its accept queue holds a burst: LISTEN_BACKLOG, or what the kernel allows (ss shows it as Send-Q).
    const ss = execFileSync(requireSystemBinary('/usr/bin/ss', 'iproute2'), ['-ltnH', `sport = :${port}`], {
      encoding: 'utf8',
    });
    const somaxconn = Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8'));
    expect(ss.trim().split(/\s+/).slice(0, 3)).toEqual(['LISTEN', '0', String(Math.min(LISTEN_BACKLOG, somaxconn))]);
  });
});

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { NodeFileSystem } from './file-system.adapter';
import { ChildProcessLauncher, ProcessEnd } from './process-launcher.adapter';

/** The real launcher, with real processes. */
describe('ChildProcessLauncher', () => {
  const launcher = new ChildProcessLauncher(new NodeFileSystem());
  const niceOf = (pid: number) => {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
  };
  const ownNice = niceOf(process.pid);

  async function run(nice: number): Promise<{ nice: number; argv0: string; end: ProcessEnd }> {
    let resolveEnd!: (end: ProcessEnd) => void;
    const ended = new Promise<ProcessEnd>((resolve) => (resolveEnd = resolve));
    const launched = launcher.launch(
      { executable: '/bin/sleep', args: ['30'], env: {}, nice },
      { onLine: () => undefined, onExit: resolveEnd },
    );
    const pid = launched.pid!;
    // nice execs the server in place: wait until the pid runs sleep itself.
    for (let i = 0; i < 200 && !readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('/bin/sleep'); i++) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const argv0 = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0];
    const value = niceOf(pid);
    launched.signalGroup('SIGKILL');
    return { nice: value, argv0, end: await ended };
  }

  it('runs the command at the nice value asked for, in place (same pid), and signals its group', async () => {
    const niced = await run(7);
    expect(niced).toMatchObject({ nice: Math.max(7, ownNice), argv0: '/bin/sleep', end: { signal: 'SIGKILL' } });
    const plain = await run(0);
    expect(plain).toMatchObject({ nice: ownNice, argv0: '/bin/sleep' });
  });

  it('refuses, as spawn() would, an executable that is missing or not executable', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sc-launcher-'));
    const plain = join(dir, 'not-executable');
    writeFileSync(plain, '#!/bin/sh\n', { mode: 0o644 });
    const handlers = { onLine: () => undefined, onExit: () => undefined };
    expect(() => launcher.launch({ executable: '/no/such/server', args: [], env: {}, nice: 5 }, handlers)).toThrow(
      /^spawn \/no\/such\/server ENOENT: does not exist$/,
    );
    try {
      expect(() => launcher.launch({ executable: plain, args: [], env: {}, nice: 5 }, handlers)).toThrow(
        /EACCES: is not executable by this user/,
      );
      expect(() => launcher.launch({ executable: dir, args: [], env: {}, nice: 0 }, handlers)).toThrow(
        /EACCES: is not a regular file/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

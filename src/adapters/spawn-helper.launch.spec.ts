import { spawn } from 'child_process';
import { isProcessAlive, isProcessGroupAlive } from '../../test/support/processes';
import { waitFor } from '../../test/support/wait';
import { readProcStat } from './process-table.adapter';
import { HelperLaunch } from './spawn-helper.launch';

describe('HelperLaunch', () => {
  /** A launch given up on (no answer in time), with what it reported and how often it was forgotten. */
  async function abandoned(reason: string) {
    const calls: string[] = [];
    const counts = { forgotten: 0 };
    const launch = new HelperLaunch(
      {
        onLine: (stream, line) => void calls.push(`${stream} ${line}`),
        onExit: () => void calls.push('exit'),
        onProcessGone: () => void calls.push('gone'),
      },
      () => counts.forgotten++,
    );
    launch.abandon(new Error(reason));
    await expect(launch.started).rejects.toThrow(reason);
    return { launch, calls, counts };
  }

  it('a launch given up on fails at once; a pid announced late is killed with its group, and nothing is reported', async () => {
    const { launch, calls, counts } = await abandoned('spawn helper did not answer within 10 s');
    expect(counts.forgotten).toBe(0); // kept, so that its late answers are read

    // The server the helper forked meanwhile (a group of its own, with a child of its own).
    const late = spawn('/bin/sh', ['-c', 'sleep 30 & wait'], { detached: true, stdio: 'ignore' });
    const pid = late.pid!;
    const exited = new Promise((resolve) => late.once('exit', resolve));
    launch.spawned(pid, readProcStat(pid)!.startTime);
    await exited;
    await waitFor(() => !isProcessGroupAlive(pid), 5000, { description: 'its group to be gone' });
    launch.line('stdout', 'after the kill');
    launch.exited(null, null);
    expect(calls).toEqual([]);
    expect(counts.forgotten).toBe(1);
  });

  it('a late pid that now belongs to another process (another start time) is left alone', async () => {
    const { launch } = await abandoned('no answer');
    const other = spawn('/bin/sleep', ['30'], { detached: true, stdio: 'ignore' });
    try {
      launch.spawned(other.pid!, '1'); // the pid as announced, for a process started long before
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(isProcessAlive(other.pid!)).toBe(true);
    } finally {
      other.kill('SIGKILL');
    }
  });

  it('the helper gone before a late pid: forgotten, nothing reported', async () => {
    const { launch, calls, counts } = await abandoned('no answer');
    launch.orphaned();
    expect(counts.forgotten).toBe(1);
    expect(calls).toEqual([]);
  });

  /** A launch whose server runs, followed until the helper is gone (orphaned), with what it reported. */
  function followed(pid: number, startTime: string | undefined) {
    const calls: string[] = [];
    const launch = new HelperLaunch(
      { onLine: () => undefined, onExit: (end) => void calls.push(`exit ${end.code} ${end.signal}`) },
      () => undefined,
    );
    launch.spawned(pid, startTime);
    launch.orphaned();
    return { calls, launch };
  }

  it('with the helper gone, a server that exited counts as gone though nothing has reaped it (a zombie)', async () => {
    // The inner sleep's parent becomes `sleep 30`, which never reaps it: once it exits it stays a zombie.
    const parent = spawn('/bin/sh', ['-c', 'sleep 0.3 & echo $!; exec sleep 30'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    try {
      const pid = await new Promise<number>((resolve) => parent.stdout.once('data', (data) => resolve(Number(data))));
      const { calls } = followed(pid, readProcStat(pid)!.startTime);
      await waitFor(() => readProcStat(pid)?.state === 'Z', 3000, { description: 'the server to be a zombie' });
      await waitFor(() => calls.length > 0, 3000, { description: 'the exit reported' });
      expect(calls).toEqual(['exit null null']);
      expect(readProcStat(pid)?.state).toBe('Z'); // still not reaped: seen gone all the same
    } finally {
      parent.kill('SIGKILL');
    }
  });

  it('with the helper gone, a pid that now names another process (another start time) is not its server', async () => {
    // Another user's process that got the server's pid and leads a group of that number, as setpgrp makes it.
    const other = spawn('/bin/sleep', ['30'], { detached: true, stdio: 'ignore' });
    try {
      const { calls, launch } = followed(other.pid!, '1');
      const server = await launch.started;
      expect(server.signalGroup('SIGTERM')).toBe(false);
      await waitFor(() => calls.length > 0, 3000, { description: 'the exit reported' });
      expect(calls).toEqual(['exit null null']);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(isProcessGroupAlive(other.pid!)).toBe(true); // neither signalled nor killed with the group
    } finally {
      other.kill('SIGKILL');
    }
  });
});

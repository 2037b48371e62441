import { execFileSync, spawn } from 'child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { ProcProcessUsage, USAGE_WALK_EVERY } from './process-usage.adapter';

const TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
const PAGE = Number(execFileSync('getconf', ['PAGESIZE'], { encoding: 'utf8' }).trim());

/** A /proc of our own: <root>/<pid>/stat with the fields ProcProcessUsage reads. */
class FakeProc {
  readonly root = mkdtempSync(join(tmpdir(), 'sc-test-proc-'));

  process(pid: number, pgrp: number, ticks: number, pages: number): void {
    mkdirSync(join(this.root, String(pid)), { recursive: true });
    // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime ... rss (field 24)
    const fields = ['S', 1, pgrp, pgrp, 0, -1, 0, 0, 0, 0, 0, ticks, 0, 0, 0, 20, 0, 1, 0, 100, 4096, pages];
    writeFileSync(join(this.root, String(pid), 'stat'), `${pid} (a (b) c) ${fields.join(' ')} 0 0\n`);
  }

  gone(pid: number): void {
    rmSync(join(this.root, String(pid)), { recursive: true, force: true });
  }

  remove(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

describe('ProcProcessUsage', () => {
  let proc: FakeProc;
  beforeEach(() => (proc = new FakeProc()));
  afterEach(() => proc.remove());

  it('sums CPU time and resident memory over every process of each group asked for, and no other', () => {
    proc.process(100, 100, 150, 10);
    proc.process(101, 100, 50, 5);
    proc.process(200, 200, 7, 3);
    proc.process(300, 300, 999, 999);
    const usage = new ProcProcessUsage(proc.root).read([100, 200, 400]);
    expect([...usage.keys()].sort()).toEqual([100, 200]);
    expect(usage.get(100)).toEqual({ cpuSeconds: 200 / TICKS, rssBytes: 15 * PAGE });
    expect(usage.get(200)).toEqual({ cpuSeconds: 7 / TICKS, rssBytes: 3 * PAGE });
  });

  it('walks the process table once every few reads; between walks it reads the members it knows and each leader', () => {
    proc.process(100, 100, 10, 1);
    proc.process(101, 100, 10, 1);
    const usage = new ProcProcessUsage(proc.root);
    // Sweeps with no session use no walk up: the first session's first read walks, and so does the first after
    // an idle spell.
    for (let read = 1; read < USAGE_WALK_EVERY; read++) expect(usage.read([]).size).toBe(0);
    expect(usage.read([100]).get(100)?.rssBytes).toBe(2 * PAGE);
    proc.process(103, 100, 0, 1);
    expect(usage.read([]).size).toBe(0);
    expect(usage.read([100]).get(100)?.rssBytes).toBe(3 * PAGE);
    proc.gone(103);
    // Started after the walk: not seen until the next one.
    proc.process(102, 100, 10, 1);
    // A new group: its leader is read at once.
    proc.process(500, 500, 30, 4);
    // Known members are read again each time: their new figures count.
    proc.process(101, 100, 90, 6);
    for (let read = 2; read <= USAGE_WALK_EVERY; read++) {
      const now = usage.read([100, 500]);
      expect(now.get(100)).toEqual({ cpuSeconds: 100 / TICKS, rssBytes: 7 * PAGE });
      expect(now.get(500)).toEqual({ cpuSeconds: 30 / TICKS, rssBytes: 4 * PAGE });
    }
    expect(usage.read([100, 500]).get(100)).toEqual({ cpuSeconds: 110 / TICKS, rssBytes: 8 * PAGE });
  });

  it('drops at once a process that ended or left the group, and a group with no process left', () => {
    proc.process(100, 100, 10, 1);
    proc.process(101, 100, 10, 1);
    proc.process(102, 100, 10, 1);
    const usage = new ProcProcessUsage(proc.root);
    usage.read([100]);
    proc.gone(101);
    // The pid reused by a process of another group.
    proc.process(102, 700, 10, 1);
    expect(usage.read([100]).get(100)).toEqual({ cpuSeconds: 10 / TICKS, rssBytes: PAGE });
    proc.gone(100);
    expect(usage.read([100]).has(100)).toBe(false);
  });

  it('reads a real process group: the leader and the processes it started', async () => {
    const child = spawn('sh', ['-c', 'sleep 30 & sleep 30 & wait'], { detached: true, stdio: 'ignore' });
    try {
      const pgid = child.pid!;
      const members = () =>
        execFileSync('pgrep', ['-g', String(pgid)], { encoding: 'utf8' })
          .trim()
          .split('\n');
      for (let i = 0; i < 100 && members().length < 3; i++) await new Promise((resolve) => setTimeout(resolve, 20));
      const pids = members();
      expect(pids).toHaveLength(3);
      const rssOf = (pid: string) => Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[21]);
      const group = new ProcProcessUsage().read([pgid]).get(pgid);
      expect(group!.rssBytes).toBe(pids.reduce((sum, pid) => sum + rssOf(pid), 0) * PAGE);
      expect(group!.rssBytes).toBeGreaterThan(rssOf(String(pgid)) * PAGE);
    } finally {
      process.kill(-child.pid!, 'SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
    }
  });
});

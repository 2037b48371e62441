import { Logger } from '@nestjs/common';
import { FakeProcessTable, MemorySpawnJournal } from '../../../test/fakes';
import type { JournalEntry } from '../../adapters/spawn-journal.adapter';
import type { CpuPriority } from '../../cpu-priority/cpu-priority.service';
import { OrphanReaper } from './orphan-reaper';
import { hashArgs } from '../../adapters/process-identity';

describe('OrphanReaper', () => {
  beforeAll(() => Logger.overrideLogger(false));
  const UID = 1000;

  const argsOf = (id: string) => ['--id', id, '--sc-port', '55000'];
  const entryFor = (id: string, pid: number, startTime = '500'): JournalEntry => ({
    id,
    pid,
    wsPort: 55000,
    startTime,
    argsHash: hashArgs(argsOf(id)),
    argCount: argsOf(id).length,
  });
  const server = (id: string, extra: { uid?: number; startTime?: string; pgrp?: number } = {}) => ({
    argv: ['/usr/bin/node', '/opt/ts3d_sc_server', ...argsOf(id)],
    uid: UID,
    startTime: '500',
    ...extra,
  });

  function reap(
    entries: JournalEntry[],
    processes: FakeProcessTable,
    writer?: { pid: number; startTime: string },
    sameBoot?: boolean,
  ) {
    const journal = new MemorySpawnJournal();
    journal.entries = entries;
    journal.load = () => ({ writer, entries: [...journal.entries], sameBoot });
    const reaped: string[] = [];
    const priority = {
      reaped: (ids: string[], pids: number[]) => {
        // Before the journal naming them is emptied.
        expect(journal.entries).toEqual(entries);
        reaped.push(...ids, ...pids.map(String));
      },
    } as unknown as CpuPriority;
    const killed = new OrphanReaper(journal, processes, priority).reap(UID);
    return { killed: killed.map((e) => e.id), journal, reaped };
  }

  it('kills the group of every journalled server still running as launched, then empties the journal', () => {
    const processes = new FakeProcessTable();
    processes.procs.set(101, server('a'));
    processes.procs.set(102, { ...server('b'), argv: ['nice-wrapped', '/opt/x', ...argsOf('b')] });
    const { killed, journal, reaped } = reap([entryFor('a', 101), entryFor('b', 102)], processes, {
      pid: 99,
      startTime: '1',
    });
    expect(killed).toEqual(['a', 'b']);
    expect(reaped).toEqual(['a', 'b', '101', '102']);
    expect(processes.killed).toEqual([
      [101, 'SIGKILL'],
      [102, 'SIGKILL'],
    ]);
    expect(journal.entries).toEqual([]);
  });

  it('never touches a process that is not provably the server launched: reused pid, other owner, other argv', () => {
    const processes = new FakeProcessTable();
    processes.procs.set(101, { argv: ['/usr/sbin/sshd', '-D'], uid: UID, startTime: '500' });
    processes.procs.set(102, server('some-other-spawn'));
    processes.procs.set(103, server('c', { startTime: '777' })); // pid reused since
    processes.procs.set(104, server('d', { uid: 1001 })); // another user's process with --id d in its argv
    processes.procs.set(105, server('e', { pgrp: 1 })); // not leading its own group
    processes.procs.set(106, { ...server('f'), argv: ['sleep', '--id', 'f', '600'] });
    const entries = ['a', 'b', 'c', 'd', 'e', 'f'].map((id, i) => entryFor(id, 101 + i));
    const { killed, reaped } = reap(entries, processes);
    expect(killed).toEqual([]);
    expect(processes.killed).toEqual([]);
    // Their servers are gone (the pids are others' now): what they left in their own cgroups is still theirs.
    expect(reaped).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
  });

  it('in a journal of this boot, pid and start time prove a server: one that changed its argv or group is killed', () => {
    const processes = new FakeProcessTable();
    // Its title rewritten ($0, setproctitle), a site wrapper that exec'd it with one more argument, and one that
    // moved itself into another process group (1) with a child left in its own.
    processes.procs.set(101, { ...server('a'), argv: ['innocent-looking-title'] });
    processes.procs.set(102, { ...server('b'), argv: ['/opt/x', ...argsOf('b'), '--sc-verbose-logging', 'true'] });
    processes.procs.set(103, server('c', { pgrp: 1 }));
    processes.procs.set(104, { argv: ['child'], uid: UID, startTime: '600', pgrp: 103 });
    const { killed, reaped } = reap(
      [entryFor('a', 101), entryFor('b', 102), entryFor('c', 103)],
      processes,
      {
        pid: 99,
        startTime: '1',
      },
      true,
    );
    expect(killed).toEqual(['a', 'b', 'c']);
    expect(processes.killed.map(([pgid]) => pgid)).toEqual([101, 102, 103]);
    expect(processes.killedPids).toEqual([[103, 'SIGKILL']]);
    expect([...processes.procs.keys()]).toEqual([]);
    expect(reaped).toEqual(['a', 'b', 'c', '101', '102', '103']);
  });

  it("in a journal of this boot, still never touches a reused pid or another user's process", () => {
    const processes = new FakeProcessTable();
    processes.procs.set(101, server('a', { startTime: '777' }));
    processes.procs.set(102, server('b', { uid: 1001 }));
    const { killed } = reap([entryFor('a', 101), entryFor('b', 102)], processes, undefined, true);
    expect(killed).toEqual([]);
    expect([processes.killed, processes.killedPids]).toEqual([[], []]);
  });

  it('leaves everything alone, journal included, while the journal writer still runs', () => {
    const processes = new FakeProcessTable();
    processes.procs.set(101, server('a'));
    processes.procs.set(50, { argv: ['node', 'dist/main.js'], uid: UID, startTime: '42' });
    const { killed, journal, reaped } = reap([entryFor('a', 101)], processes, { pid: 50, startTime: '42' });
    expect(killed).toEqual([]);
    expect(processes.killed).toEqual([]);
    expect(journal.entries).toHaveLength(1);
    expect(reaped).toEqual([]);
  });

  it('reaps the servers of a writer that was killed and is not reaped yet (a zombie): it runs no more', () => {
    const processes = new FakeProcessTable();
    processes.procs.set(101, server('a'));
    processes.procs.set(50, { argv: [], uid: UID, startTime: '42', state: 'Z' });
    const { killed, journal } = reap([entryFor('a', 101)], processes, { pid: 50, startTime: '42' });
    expect(killed).toEqual(['a']);
    expect(journal.entries).toEqual([]);
  });
});

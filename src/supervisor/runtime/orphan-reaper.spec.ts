import { Logger } from '@nestjs/common';
import { FakeProcessTable, MemorySpawnJournal } from '../../../test/fakes';
import { OrphanReaper } from './orphan-reaper';

describe('OrphanReaper', () => {
  beforeAll(() => Logger.overrideLogger(false));

  const serverArgv = (id: string) => ['node', '/opt/ts3d_sc_server', '--id', id, '--sc-port', '55000'];

  it('kills the process group of every journalled server still running, then empties the journal', () => {
    const journal = new MemorySpawnJournal();
    journal.entries = [
      { id: 'a', pid: 101, wsPort: 55000 },
      { id: 'b', pid: 102, wsPort: 55001 },
    ];
    const processes = new FakeProcessTable();
    processes.commandLines.set(101, serverArgv('a'));
    processes.commandLines.set(102, ['node', 'server', '--id=b']);
    const killed = new OrphanReaper(journal, processes).reap();
    expect(killed.map((e) => e.id)).toEqual(['a', 'b']);
    expect(processes.killed).toEqual([
      [101, 'SIGKILL'],
      [102, 'SIGKILL'],
    ]);
    expect(journal.entries).toEqual([]);
  });

  it('never touches a pid that now belongs to another process, or one that is gone', () => {
    const journal = new MemorySpawnJournal();
    journal.entries = [
      { id: 'a', pid: 101, wsPort: 55000 },
      { id: 'b', pid: 102, wsPort: 55001 },
      { id: 'c', pid: 103, wsPort: 55002 },
    ];
    const processes = new FakeProcessTable();
    processes.commandLines.set(101, ['/usr/sbin/sshd', '-D']);
    processes.commandLines.set(102, serverArgv('some-other-spawn'));
    expect(new OrphanReaper(journal, processes).reap()).toEqual([]);
    expect(processes.killed).toEqual([]);
    expect(journal.entries).toEqual([]);
  });
});

import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { ProcessTable, JournalEntry, SpawnJournal, notOurs, stillRunning } from '../../adapters';
import { CpuPriority } from '../../cpu-priority';

/**
 * At start-up, stops the servers a previous run of this service left behind when it died without its
 * shutdown (crash, OOM kill, SIGKILL). Only what is provably ours is signalled: the journal's writer is gone,
 * and each pid still runs, under our uid and since the recorded start time, the command line launched.
 */
@Injectable()
export class OrphanReaper implements OnModuleInit {
  private readonly logger = new Logger('OrphanReaper');

  constructor(
    private readonly journal: SpawnJournal,
    private readonly processes: ProcessTable,
    private readonly priority: CpuPriority,
  ) {}

  onModuleInit(): void {
    this.reap();
  }

  /** Returns the entries whose process groups were killed. */
  reap(ownUid = process.getuid?.() ?? 0): JournalEntry[] {
    const { writer, entries, sameBoot } = this.journal.load();
    if (writer && writer.pid !== process.pid && stillRunning(this.processes, writer)) {
      // The instance lock should make this impossible; its servers are not orphans, so nothing is touched.
      this.logger.warn(`the journal's writer (pid ${writer.pid}) still runs: its servers are left alone`);
      return [];
    }
    const killed: JournalEntry[] = [];
    for (const entry of entries) {
      const why = notOurs(this.processes, entry, ownUid, sameBoot);
      if (why) {
        if (why !== 'gone') this.logger.warn(`journal entry ${entry.id} (pid ${entry.pid}) left alone: ${why}`);
        continue;
      }
      // A server that moved to another group is out of its own group's reach: the process itself is killed too.
      const leftItsGroup = this.processes.stat(entry.pid)?.pgrp !== entry.pid;
      const groupKilled = this.processes.killGroup(entry.pid, 'SIGKILL');
      if ((leftItsGroup && this.processes.kill(entry.pid, 'SIGKILL')) || groupKilled) {
        this.logger.warn(
          `stopped server ${entry.id} (pid ${entry.pid}, port ${entry.wsPort}) left running by a previous run of this service`,
        );
        killed.push(entry);
      }
    }
    // Gone or stopped, each one's cgroup (a cgroup mechanism) may still hold what it started outside its group:
    // killed before the journal, which names them, is emptied.
    this.priority.reaped(
      entries.map((entry) => entry.id),
      killed.map((entry) => entry.pid),
    );
    this.journal.save([]);
    return killed;
  }
}

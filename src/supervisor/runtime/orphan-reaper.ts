import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { ProcessTable } from '../../adapters/process-table.adapter';
import { JournalEntry, SpawnJournal } from '../../adapters/spawn-journal.adapter';

/**
 * At start-up, stops the servers a previous run of this service left behind when it died without its
 * shutdown (crash, OOM kill, SIGKILL). A pid is signalled only if that process is still the server the
 * journal names (its command line carries the spawn's --id), so a reused pid is never touched.
 */
@Injectable()
export class OrphanReaper implements OnModuleInit {
  private readonly logger = new Logger('OrphanReaper');

  constructor(
    private readonly journal: SpawnJournal,
    private readonly processes: ProcessTable,
  ) {}

  onModuleInit(): void {
    this.reap();
  }

  /** Returns the entries whose process groups were killed. */
  reap(): JournalEntry[] {
    const killed: JournalEntry[] = [];
    for (const entry of this.journal.load()) {
      const argv = this.processes.commandLine(entry.pid);
      if (!argv || !carriesSpawnId(argv, entry.id)) continue;
      if (this.processes.killGroup(entry.pid, 'SIGKILL')) {
        this.logger.warn(
          `stopped server ${entry.id} (pid ${entry.pid}, port ${entry.wsPort}) left running by a previous run of this service`,
        );
        killed.push(entry);
      }
    }
    this.journal.save([]);
    return killed;
  }
}

function carriesSpawnId(argv: readonly string[], id: string): boolean {
  return argv.some((arg, i) => (arg === '--id' && argv[i + 1] === id) || arg === `--id=${id}`);
}

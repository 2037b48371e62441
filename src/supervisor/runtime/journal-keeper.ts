import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { hashArgs, type JournalEntry, SpawnJournal } from '../../adapters';
import type { SpawnRecord } from '../rules/spawn-record';

/**
 * Keeps the journal of running servers (what the next start may reap after a crash): an entry per server,
 * recorded once at launch (its start time does not change), dropped when it has exited.
 *
 * The file is written once per batch of synchronous work (next tick), however many servers changed in it: 32 servers starting
 * at once wrote it 32 times, whole, on the main thread, while health checks waited (a storm profile).
 */
@Injectable()
export class JournalKeeper implements OnApplicationShutdown {
  private readonly entries = new Map<string, JournalEntry>();
  private pending = false;

  constructor(private readonly journal: SpawnJournal) {}

  /** A server was launched with `args` (the record has its pid and start time). */
  launched(record: SpawnRecord, args: readonly string[]): void {
    const startTime = record.pidStartTime;
    if (record.pid === undefined || startTime === undefined || args.length === 0) return;
    const { id, wsPort } = record.spec;
    this.entries.set(id, { id, pid: record.pid, wsPort, startTime, argsHash: hashArgs(args), argCount: args.length });
    this.schedule();
  }

  exited(id: string): void {
    if (this.entries.delete(id)) this.schedule();
  }

  /** Writes the journal now if a change is waiting (at shutdown, so the last exits are recorded). */
  flush(): void {
    if (!this.pending) return;
    this.pending = false;
    this.journal.save([...this.entries.values()]);
  }

  onApplicationShutdown(): void {
    this.flush();
  }

  private schedule(): void {
    if (this.pending) return;
    this.pending = true;
    // Before the event loop turns again: a crash can no longer fall between a fork and its journal entry.
    process.nextTick(() => this.flush());
  }
}

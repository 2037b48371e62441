import { Injectable, Logger } from '@nestjs/common';
import { mkdirSync, readFileSync, renameSync, rmdirSync, rmSync, writeFileSync } from 'fs';
import * as path from 'path';
import { AppConfig } from '../config/app-config';

export interface JournalEntry {
  id: string;
  pid: number;
  wsPort: number;
}

/**
 * The servers running right now, kept on disk so that a service restarted after a crash (OOM kill, SIGKILL)
 * can find and stop the servers the dead one left behind. Behind an interface for tests.
 */
export abstract class SpawnJournal {
  abstract save(entries: readonly JournalEntry[]): void;
  abstract load(): JournalEntry[];
}

@Injectable()
export class FileSpawnJournal extends SpawnJournal {
  private readonly logger = new Logger('SpawnJournal');
  private readonly file?: string;
  private readonly removeDirWhenEmpty: boolean;

  constructor(config: AppConfig) {
    super();
    this.file = config.stateDir ? path.join(config.stateDir, 'spawns.json') : undefined;
    this.removeDirWhenEmpty = config.stateDirIsDefault;
  }

  /** Written whole and renamed into place, so a crash mid-write never leaves a torn file. Empty: the file goes. */
  save(entries: readonly JournalEntry[]): void {
    if (!this.file) return;
    try {
      if (entries.length === 0) {
        rmSync(this.file, { force: true });
        if (this.removeDirWhenEmpty) removeIfEmpty(path.dirname(this.file));
        return;
      }
      mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
      const temporary = `${this.file}.${process.pid}.tmp`;
      writeFileSync(temporary, JSON.stringify(entries), { mode: 0o600 });
      renameSync(temporary, this.file);
    } catch (error) {
      this.logger.warn(`cannot write ${this.file}: ${(error as Error).message}`);
    }
  }

  load(): JournalEntry[] {
    if (!this.file) return [];
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch {
      return [];
    }
    try {
      const parsed: unknown = JSON.parse(text);
      return Array.isArray(parsed) ? parsed.filter(isJournalEntry) : [];
    } catch {
      this.logger.warn(`ignoring unreadable ${this.file}`);
      return [];
    }
  }
}

function isJournalEntry(value: unknown): value is JournalEntry {
  const entry = value as JournalEntry;
  return (
    typeof entry?.id === 'string' && Number.isInteger(entry.pid) && entry.pid > 1 && Number.isInteger(entry.wsPort)
  );
}

/** Leaves nothing behind in the default state folder once no server runs; a folder with other files stays. */
function removeIfEmpty(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // not empty, or already gone
  }
}

import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomBytes } from 'crypto';
import { closeSync, constants, fstatSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'fs';
import * as path from 'path';
import { SERVERS_SETTINGS, type ServersSettings } from '../config';
import { ProcessTable } from './process-table.adapter';

/** One process for the machine's uptime: its pid and its start time (/proc/<pid>/stat field 22). */
export interface ProcessIdentity {
  pid: number;
  startTime: string;
}

export interface JournalEntry extends ProcessIdentity {
  id: string;
  wsPort: number;
  /** sha256 of the server's arguments (after the executable), as launched: the tail of its command line. */
  argsHash: string;
  argCount: number;
}

/** The journal as read: who wrote it (absent in a file from an older version) and the servers it names. */
export interface Journal {
  writer?: ProcessIdentity;
  entries: JournalEntry[];
  /** Written since the machine last booted (its boot id): each entry's pid and start time then name one process. */
  sameBoot?: boolean;
}

/**
 * The servers running right now, kept on disk so that a service restarted after a crash (OOM kill, SIGKILL)
 * can find and stop the servers the dead one left behind. Behind an interface for tests.
 */
export abstract class SpawnJournal {
  abstract save(entries: readonly JournalEntry[]): void;
  abstract load(): Journal;
}

const EXCLUSIVE_NO_FOLLOW = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

@Injectable()
export class FileSpawnJournal extends SpawnJournal {
  private readonly logger = new Logger('SpawnJournal');
  private readonly file?: string;
  private writer?: ProcessIdentity;

  constructor(
    @Inject(SERVERS_SETTINGS.token) servers: Pick<ServersSettings, 'stateDir'>,
    private readonly processes: ProcessTable,
  ) {
    super();
    this.file = servers.stateDir ? path.join(servers.stateDir, 'spawns.json') : undefined;
  }

  /**
   * Written whole to a temporary file created exclusively (a planted file or symlink of that name makes the
   * write fail rather than follow it) and renamed into place, so a crash mid-write never leaves a torn file.
   * Empty: the file goes. The state folder itself is prepared at start-up (src/startup/state-folder.ts).
   */
  save(entries: readonly JournalEntry[]): void {
    if (!this.file) return;
    try {
      if (entries.length === 0) {
        rmSync(this.file, { force: true });
        return;
      }
      const temporary = `${this.file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
      const fd = openSync(temporary, EXCLUSIVE_NO_FOLLOW, 0o600);
      try {
        // writeFileSync writes until all is written (one writeSync may write part of it: a full disk).
        try {
          writeFileSync(fd, JSON.stringify({ writer: this.ownIdentity(), bootId: currentBootId(), entries }));
        } finally {
          closeSync(fd);
        }
        renameSync(temporary, this.file);
      } catch (error) {
        // A failed write leaves neither a torn journal nor a temporary file behind; the last whole journal stays.
        rmSync(temporary, { force: true });
        throw error;
      }
    } catch (error) {
      this.logger.warn(`cannot write ${this.file}: ${(error as Error).message}`);
    }
  }

  load(): Journal {
    if (!this.file) return { entries: [] };
    let text: string;
    try {
      text = readOwnFile(this.file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT')
        this.logger.warn(`ignoring ${this.file}: ${(error as Error).message}`);
      return { entries: [] };
    }
    try {
      const parsed: unknown = JSON.parse(text);
      const journal = parseJournal(parsed);
      const bootId = (parsed as { bootId?: unknown }).bootId;
      return typeof bootId === 'string' && bootId !== '' && bootId === currentBootId()
        ? { ...journal, sameBoot: true }
        : journal;
    } catch {
      this.logger.warn(`ignoring unreadable ${this.file}`);
      return { entries: [] };
    }
  }

  private ownIdentity(): ProcessIdentity | undefined {
    this.writer ??= identityOf(this.processes, process.pid);
    return this.writer;
  }
}

/**
 * The journal's text, if this user wrote it and no one else may change it (a link is not followed). The state folder
 * is checked at start, so another's journal can only be there by a mistake: it is read, never believed.
 */
function readOwnFile(file: string): string {
  const fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const stats = fstatSync(fd);
    if (stats.uid !== (process.getuid?.() ?? stats.uid) || stats.mode & 0o022 || !stats.isFile())
      throw new Error(
        `not a file of this user that only it may write (uid ${stats.uid}, mode ${(stats.mode & 0o777).toString(8)})`,
      );
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

/**
 * This boot of the machine (the kernel's random boot id), or undefined when unreadable. A state folder that outlives
 * a reboot (`$STATE_DIRECTORY`) keeps a journal whose pids and start times may name other processes since.
 */
export function currentBootId(): string | undefined {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

export function identityOf(processes: ProcessTable, pid: number): ProcessIdentity | undefined {
  const startTime = processes.stat(pid)?.startTime;
  return startTime === undefined ? undefined : { pid, startTime };
}

/** A journal's content; an older file (a bare array) or malformed entries name nothing provably ours. */
export function parseJournal(parsed: unknown): Journal {
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { entries: [] };
  const { writer, entries } = parsed as { writer?: unknown; entries?: unknown };
  return {
    writer: isIdentity(writer) ? writer : undefined,
    entries: Array.isArray(entries) ? entries.filter(isJournalEntry) : [],
  };
}

function isIdentity(value: unknown): value is ProcessIdentity {
  const identity = value as ProcessIdentity;
  return Number.isInteger(identity?.pid) && identity.pid > 1 && typeof identity.startTime === 'string';
}

function isJournalEntry(value: unknown): value is JournalEntry {
  const entry = value as JournalEntry;
  return (
    isIdentity(value) &&
    typeof entry.id === 'string' &&
    Number.isInteger(entry.wsPort) &&
    typeof entry.argsHash === 'string' &&
    Number.isInteger(entry.argCount) &&
    entry.argCount > 0
  );
}

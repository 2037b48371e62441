import { closeSync, constants, openSync, readFileSync, unlinkSync, writeFileSync } from 'fs';
import * as path from 'path';
import { ProcessTable } from './process-table.adapter';
import type { ProcessIdentity } from './spawn-journal.adapter';
import { identityOf } from './spawn-journal.adapter';
import { stillRunning } from './process-identity';

export const LOCK_FILE = 'instance.lock';

export type LockResult = { held: true; release: () => void } | { held: false; holderPid: number | undefined };

const CREATE_EXCLUSIVE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/**
 * One instance per state folder: a lock file created exclusively, holding the owner's pid and start time.
 * A lock whose owner no longer runs (same pid, same start time) is stale, left by a crash, and taken over.
 * Chosen over flock(2) (no native addon, and Node.js has no flock) and over mkdir locks with heartbeats: the
 * pid and start time prove whether the holder lives without any timing guess.
 */
export function acquireInstanceLock(dir: string, processes: ProcessTable): LockResult {
  const file = path.join(dir, LOCK_FILE);
  const self = identityOf(processes, process.pid) ?? { pid: process.pid, startTime: 'unknown' };
  for (let attempt = 0; attempt < 5; attempt++) {
    let fd: number;
    try {
      fd = openSync(file, CREATE_EXCLUSIVE, 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = readHolder(file);
      if (holder === 'being-written' && attempt < 3) {
        pause(50);
        continue;
      }
      if (holder && holder !== 'being-written' && stillRunning(processes, holder))
        return { held: false, holderPid: holder.pid };
      removeStale(file); // stale, unreadable, or left empty by a crash: its writer is gone
      continue;
    }
    try {
      writeFileSync(fd, JSON.stringify(self));
    } catch (error) {
      // A full disk: no empty lock is left behind for the next start to wait on.
      removeStale(file);
      throw error;
    } finally {
      closeSync(fd);
    }
    return { held: true, release: () => releaseIfOurs(file, self) };
  }
  return { held: false, holderPid: undefined };
}

function readHolder(file: string): ProcessIdentity | undefined | 'being-written' {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return 'being-written'; // removed meanwhile: try again
  }
  if (text === '') return 'being-written';
  try {
    const parsed = JSON.parse(text) as ProcessIdentity;
    return Number.isInteger(parsed.pid) && typeof parsed.startTime === 'string' ? parsed : undefined;
  } catch {
    return undefined;
  }
}

function releaseIfOurs(file: string, self: ProcessIdentity): void {
  const holder = readHolder(file);
  if (holder && holder !== 'being-written' && holder.pid === self.pid && holder.startTime === self.startTime) {
    try {
      unlinkSync(file);
    } catch {
      // already gone
    }
  }
}

function removeStale(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // another starter removed it first
  }
}

function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

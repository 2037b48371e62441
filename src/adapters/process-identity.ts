import { createHash } from 'crypto';
import type { ProcessTable } from './process-table.adapter';
import type { JournalEntry, ProcessIdentity } from './spawn-journal.adapter';

/** A fingerprint of a server's arguments, kept in the journal instead of the arguments (which may hold secrets). */
export function hashArgs(args: readonly string[]): string {
  return createHash('sha256').update(args.join('\0')).digest('hex');
}

/**
 * Whether `identity` still names the same running process (pid not reused: same start time). A zombie has exited
 * (a service killed outright stays one until its parent reaps it): it holds no lock and writes no journal.
 */
export function stillRunning(processes: ProcessTable, identity: ProcessIdentity): boolean {
  const stat = processes.stat(identity.pid);
  return stat?.startTime === identity.startTime && stat.state !== 'Z' && stat.state !== 'X';
}

/**
 * Why a journal entry is not provably a server this service started, or undefined when it is: the pid runs
 * under our uid and started at the recorded time; in a journal from an earlier boot (or of unknown boot), its
 * command line also ends with the recorded arguments (which carry `--id <id>`) and it leads its own group. A
 * wrapper (nice) or interpreter (#!) may change what precedes them.
 */
export function notOurs(
  processes: ProcessTable,
  entry: JournalEntry,
  ownUid: number,
  sameBoot = false,
): string | undefined {
  const uid = processes.ownerUid(entry.pid);
  if (uid === undefined) return 'gone';
  if (uid !== ownUid) return `owned by uid ${uid}`;
  const stat = processes.stat(entry.pid);
  if (stat?.startTime !== entry.startTime) return 'a different process (start time differs)';
  // Within one boot a pid is reused only once nothing holds it, and never within the clock tick it started in: the
  // pair is the proof. A server that rewrote its command line (a title, a wrapper's exec with one more argument) or
  // left its group is still ours, and was left running for ever after a crash when its argv was the proof.
  if (sameBoot) return undefined;
  if (stat.pgrp !== entry.pid) return 'it does not lead its own process group';
  const argv = processes.commandLine(entry.pid);
  if (!argv || !carriesSpawnId(argv, entry.id)) return 'its command line does not carry the spawn id';
  if (argv.length < entry.argCount || hashArgs(argv.slice(argv.length - entry.argCount)) !== entry.argsHash) {
    return 'its command line differs from the one launched';
  }
  return undefined;
}

function carriesSpawnId(argv: readonly string[], id: string): boolean {
  return argv.some((arg, i) => (arg === '--id' && argv[i + 1] === id) || arg === `--id=${id}`);
}

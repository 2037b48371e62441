import { chmodSync, lstatSync, mkdirSync, Stats } from 'fs';
import * as path from 'path';
import { ancestorProblem, type FileFacts, fileFacts, GROUP_OR_OTHER_WRITE, untrustedAncestor } from '../adapters';

export { ancestorProblem };

/** What start-up knows about a folder (from lstat: a symlink is never followed). */
export type FolderFacts = FileFacts;

/** Why an existing state folder may not be used, or undefined when it may (see stateFolderProblem). */
export function existingFolderProblem(folder: FolderFacts, ownUid: number): string | undefined {
  if (folder.isSymlink) return 'is a symbolic link';
  if (!folder.isDirectory) return 'is not a folder';
  if (folder.uid !== ownUid) return `belongs to uid ${folder.uid}, not to the service's user (uid ${ownUid})`;
  if (folder.mode & GROUP_OR_OTHER_WRITE) {
    return `is writable by group or others (mode ${(folder.mode & 0o7777).toString(8).padStart(4, '0')})`;
  }
  return undefined;
}

export class StateFolderError extends Error {}

/**
 * Makes sure the state folder is this user's alone before anything is read from it or written to it: an
 * existing one is checked (and its read bits for others dropped: 0700), a missing one is created exclusively
 * with mode 0700. Throws a StateFolderError naming the folder and what is wrong.
 */
export function prepareStateFolder(dir: string, ownUid = process.getuid?.() ?? 0): void {
  const refuse = (why: string) =>
    new StateFolderError(`state folder ${dir} ${why}: fix or remove it, or set SC_STATE_DIR to a folder of this user`);
  // Every folder on the way, as written (a link in it included) and as the links lead (/var/run -> /run).
  const checkDownTo = (folder: string) => {
    const found = untrustedAncestor(folder, ownUid);
    if (found) throw refuse(`is below ${found.folder}, which ${found.problem}`);
  };
  const parent = path.dirname(path.resolve(dir));
  // Those that exist are checked before any is made: nothing is created where another user's link leads.
  const missing: string[] = [];
  let existing = parent;
  for (; !lstatOrUndefined(existing); existing = path.dirname(existing)) missing.unshift(existing);
  checkDownTo(existing);
  for (const folder of missing) makeFolder(folder);
  checkDownTo(parent);
  if (!lstatOrUndefined(dir)) {
    try {
      mkdirSync(dir, { mode: 0o700 }); // not recursive: fails if someone made it meanwhile (then checked below)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST')
        throw refuse(`cannot be created: ${(error as Error).message}`);
    }
  }
  const problem = existingFolderProblem(fileFacts(lstatSync(dir)), ownUid);
  if (problem) throw refuse(problem);
  chmodSync(dir, 0o700);
}

/** A folder of this user only (0700); one someone made meanwhile is left to the checks that follow. */
function makeFolder(folder: string): void {
  try {
    mkdirSync(folder, { mode: 0o700 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
}

function lstatOrUndefined(file: string): Stats | undefined {
  try {
    return lstatSync(file);
  } catch {
    return undefined;
  }
}

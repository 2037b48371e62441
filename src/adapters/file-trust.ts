import type { Stats } from 'fs';

/** What is known of a file or folder (from lstat, unless said otherwise). */
export interface FileFacts {
  isDirectory: boolean;
  isSymlink: boolean;
  uid: number;
  mode: number;
}

/** The facts the trust rules read, from a stat of the file. */
export function fileFacts(stats: Stats): FileFacts {
  return { isDirectory: stats.isDirectory(), isSymlink: stats.isSymbolicLink(), uid: stats.uid, mode: stats.mode };
}

export const GROUP_OR_OTHER_WRITE = 0o022;
const OTHER_READ = 0o004;
const STICKY = 0o1000;

/**
 * Why a folder lets another user swap what is in it, or undefined: it must belong to root or to the service's
 * user; one that others may write to (like /tmp) needs the sticky bit, without which anyone who may write to a
 * folder may rename what is in it.
 */
export function ancestorProblem(folder: FileFacts, ownUid: number): string | undefined {
  if (folder.uid !== 0 && folder.uid !== ownUid) return `belongs to uid ${folder.uid}, who may rename what is in it`;
  // A link's own mode means nothing: the folder it is in and the folders it leads to are checked.
  if (folder.isSymlink || !(folder.mode & GROUP_OR_OTHER_WRITE) || folder.mode & STICKY) return undefined;
  return `is writable by group or others without the sticky bit (mode ${(folder.mode & 0o7777).toString(8)})`;
}

/**
 * Why a file the service believes (code it runs, keys it accepts) may have been written by another user, or
 * undefined: it must belong to root or to the service's user and be writable by its owner only.
 */
export function trustedFileProblem(file: FileFacts, ownUid: number): string | undefined {
  if (file.uid !== 0 && file.uid !== ownUid) return `belongs to uid ${file.uid}, not to root or the service's user`;
  if (file.mode & GROUP_OR_OTHER_WRITE) {
    return `is writable by group or others (mode ${(file.mode & 0o7777).toString(8).padStart(4, '0')}): chmod go-w it`;
  }
  return undefined;
}

/**
 * Why the folder of the servers' executable lets another user put code in it, or undefined: it is the servers'
 * LD_LIBRARY_PATH, searched before the system's libraries, so a library of any name put there is loaded (as libc)
 * by every server. The sticky bit does not help: it stops renaming what is there, not adding to it.
 */
export function codeFolderProblem(folder: FileFacts, ownUid: number): string | undefined {
  if (folder.uid !== 0 && folder.uid !== ownUid) return `belongs to uid ${folder.uid}, who may put code in it`;
  if (!(folder.mode & GROUP_OR_OTHER_WRITE)) return undefined;
  const mode = (folder.mode & 0o7777).toString(8).padStart(4, '0');
  return `is writable by group or others (mode ${mode}): a library put there is loaded by every server (LD_LIBRARY_PATH)`;
}

/** Why a file of secrets (API keys) may be read by every local user, or undefined: by its mode (stat). */
export function secretFileExposure(mode: number): string | undefined {
  if (!(mode & OTHER_READ)) return undefined;
  return `is readable by every local user (mode ${(mode & 0o7777).toString(8).padStart(4, '0')}): chmod o-r it`;
}

/** `/`, `/a`, `/a/b` for `/a/b`. */
export function foldersDownTo(folder: string): string[] {
  const parts = folder.split('/').filter(Boolean);
  return ['/', ...parts.map((_, i) => `/${parts.slice(0, i + 1).join('/')}`)];
}

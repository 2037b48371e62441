import { lstatSync, mkdtempSync, realpathSync, rmSync, type Stats } from 'fs';
import { lstat, opendir, rm } from 'fs/promises';
import { connect } from 'net';
import { join } from 'path';
import { ancestorProblem, fileFacts, foldersDownTo } from './file-trust';

/** A folder this process made, known by its inode: a folder put in its place later is not it. */
export interface OwnFolder {
  path: string;
  dev: number;
  ino: number;
}

/**
 * The first folder on the way to `folder` (itself included, as written and as its links lead) that lets another
 * user swap what is in it, and why; undefined when there is none. Throws when `folder` cannot be looked at.
 */
export function untrustedAncestor(folder: string, ownUid: number): { folder: string; problem: string } | undefined {
  for (const above of [...foldersDownTo(folder), ...foldersDownTo(realpathSync(folder))]) {
    const problem = ancestorProblem(fileFacts(lstatSync(above)), ownUid);
    if (problem) return { folder: above, problem };
  }
  return undefined;
}

/** A new folder of this user only (mkdtemp: 0700), named `<prefix>XXXXXX`. */
export function makeOwnFolder(parent: string, prefix: string): OwnFolder {
  const path = mkdtempSync(join(parent, prefix));
  const stats = lstatSync(path);
  return { path, dev: stats.dev, ino: stats.ino };
}

/**
 * Removes a folder this process made, with what is in it (already gone: nothing to do); false, and nothing removed,
 * when the folder at its path is another (renamed away, someone else's put in its place).
 */
export function removeOwnFolder(folder: OwnFolder, ownUid = process.getuid?.()): boolean {
  let stats: Stats;
  try {
    stats = lstatSync(folder.path);
  } catch {
    return true;
  }
  const same = stats.isDirectory() && stats.dev === folder.dev && stats.ino === folder.ino;
  if (!same || (ownUid !== undefined && stats.uid !== ownUid)) return false;
  rmSync(folder.path, { recursive: true, force: true });
  return true;
}

/**
 * A service killed outright (SIGKILL) leaves its socket folder behind. Folders of this user whose socket no one
 * listens on any more (connection refused) are removed; a live service's folder answers and is kept. The folder is
 * read a few entries at a time, never all at once: another user may fill a shared one (300,000 entries held the
 * event loop for 8-10 s when it was read in one go).
 */
export async function removeStaleFolders(parent: string, prefix: string, socket: string): Promise<void> {
  const uid = process.getuid?.();
  try {
    for await (const entry of await opendir(parent)) {
      if (!entry.name.startsWith(prefix)) continue;
      const folder = join(parent, entry.name);
      const stat = await lstat(folder).catch(() => undefined);
      if (stat?.isDirectory() && stat.uid === uid && (await nobodyListens(join(folder, socket)))) {
        await rm(folder, { recursive: true, force: true });
      }
    }
  } catch {
    // Housekeeping only: a folder that cannot be read leaves stale folders, nothing else.
  }
}

function nobodyListens(socketPath: string): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const probe = connect(socketPath);
    probe.once('connect', () => {
      probe.destroy();
      resolve(false);
    });
    probe.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
}

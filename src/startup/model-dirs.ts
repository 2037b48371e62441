import * as path from 'path';
import { type FileSystem, foldersDownTo } from '../adapters';

const OTHER_WRITE = 0o002;
const STICKY = 0o1000;

/** A folder on the way to a model folder, and its mode. */
export interface FolderMode {
  folder: string;
  mode: number;
}

/**
 * Why every local user could add or replace the models of a folder, from the modes of the folders down to it (the
 * last is the folder itself), or undefined. A folder above it that all may write to, without the sticky bit, lets
 * any of them rename the model folder away and put one of theirs in its place.
 */
export function openModelDirProblem(chain: readonly FolderMode[]): string | undefined {
  const own = chain[chain.length - 1];
  if (!own) return undefined;
  if (own.mode & OTHER_WRITE) {
    return (
      `is writable by every local user (mode ${octal(own.mode)}): any of them may add or replace the models ` +
      'viewers open, or link there to files the servers can read; chmod o-w it'
    );
  }
  const above = chain.slice(0, -1).find(({ mode }) => mode & OTHER_WRITE && !(mode & STICKY));
  if (!above) return undefined;
  return (
    `is in ${above.folder}, which every local user may write to without the sticky bit (mode ${octal(above.mode)}): ` +
    `any of them may put a folder of theirs, with the models viewers open, in its place; chmod o-w ${above.folder}`
  );
}

/**
 * A warning for each model folder every local user may change (see openModelDirProblem). Said, not refused: a
 * shared upload folder may be meant. The folders on the way are read as written (a link followed to its target).
 */
export function openModelDirWarnings(dirs: readonly string[], files: FileSystem): string[] {
  return dirs.flatMap((dir) => {
    let chain: FolderMode[];
    try {
      chain = foldersDownTo(path.resolve(dir)).map((folder) => ({ folder, mode: files.modeOf(folder) }));
    } catch {
      return [];
    }
    const problem = openModelDirProblem(chain);
    return problem ? [`SC_MODEL_DIRS ${dir} ${problem}`] : [];
  });
}

function octal(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}

import { statSync, type Stats } from 'fs';
import { join } from 'path';
import { isFaultModel } from './faults';

/**
 * Where the model `name` is in the search directories: `<dir>/<name>.scz` (a file) or `<dir>/<name>`
 * (a folder), trying the directories in order. Returns the path found, or undefined.
 * Fault selectors (`scsim:...`) are never looked up.
 */
export function findModel(name: string | null | undefined, searchDirectories: readonly string[]): string | undefined {
  if (!name || isFaultModel(name)) return undefined;
  for (const dir of searchDirectories) {
    if (dir === '') continue;
    const file = join(dir, `${name}.scz`);
    if (stat(file)?.isFile()) return file;
    const folder = join(dir, name);
    if (stat(folder)?.isDirectory()) return folder;
  }
  return undefined;
}

function stat(path: string): Stats | undefined {
  try {
    return statSync(path, { throwIfNoEntry: false });
  } catch {
    return undefined; // ENOTDIR, EACCES, a name too long...: not found
  }
}

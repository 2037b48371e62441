import { writeFileSync } from 'fs';
import { setPriority } from 'os';
import { untrustedAncestor } from './own-folder';
import type { ServerPlacement } from './process-launcher.adapter';
import { helperFolderParent } from './spawn-helper.folder';

/** The folder the helper's socket folder goes in (see helperFolderParent); throws when there is none. */
export function chooseHelperFolder(
  tempFolder: string,
  stateFolder: string | undefined,
  warn: (note: string) => void,
): string {
  let tempProblem: string | undefined;
  try {
    const found = untrustedAncestor(tempFolder, process.getuid?.() ?? 0);
    tempProblem = found && `${found.folder} ${found.problem}`;
  } catch (error) {
    tempProblem = `cannot be checked: ${(error as Error).message}`;
  }
  const choice = helperFolderParent({ tempFolder, tempProblem, stateFolder });
  if ('refused' in choice) throw new Error(choice.refused);
  if (choice.note) warn(choice.note);
  return choice.parent;
}

/**
 * The helper ranks with the servers, not the service: it forks them, and each child's work up to its exec
 * (joining its cgroup, the exec of a large binary) is CPU the service would otherwise share at equal weight
 * during a spawn storm (measured: the helper and its children took a whole core for ~300 ms of a 32-server
 * storm). Done before the first launch line is written, so nothing is forked from the service's group. Returns
 * why it could not be placed, or undefined.
 */
export function placeHelper(pid: number, placement: ServerPlacement): string | undefined {
  try {
    if (placement.nice > 0) setPriority(pid, placement.nice);
    if (placement.helperCgroupProcs) writeFileSync(placement.helperCgroupProcs, String(pid));
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

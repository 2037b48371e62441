/** The spawn helper's socket folder (`sc-launch-XXXXXX`, made by mkdtemp) and the socket in it. */
export const HELPER_FOLDER_PREFIX = 'sc-launch-';
export const HELPER_SOCKET = 'output.sock';
/** A unix socket's path fits in sun_path: 108 bytes, its closing NUL included; a longer one cannot be bound. */
export const SOCKET_PATH_MAX = 107;

/** Whether `<parent>/sc-launch-XXXXXX/output.sock` can be bound. */
export function helperSocketFits(parent: string): boolean {
  const suffix = `/${HELPER_FOLDER_PREFIX}XXXXXX/${HELPER_SOCKET}`;
  return Buffer.byteLength(parent + suffix) <= SOCKET_PATH_MAX;
}

export interface HelperFolderFacts {
  /** os.tmpdir(): TMPDIR, else /tmp. */
  tempFolder: string;
  /** Why another user may swap what is in the temp folder (see ancestorProblem), or undefined. */
  tempProblem: string | undefined;
  /** The state folder, when there is one: already checked at start-up, this user's alone (0700). */
  stateFolder: string | undefined;
}

export type HelperFolderChoice = { parent: string; note?: string } | { refused: string };

/**
 * Where the helper's socket folder goes. Whoever may rename entries of its parent may swap the folder for one of
 * theirs, with a socket of theirs listening in it: every server's output would go to them. So the temp folder only
 * where no other user may do that (the rules of the state folder's parents), else the state folder; without either,
 * no helper (servers start by spawn()).
 */
export function helperFolderParent(facts: HelperFolderFacts): HelperFolderChoice {
  const { tempFolder, tempProblem, stateFolder } = facts;
  const tempFits = helperSocketFits(tempFolder);
  if (!tempProblem && tempFits) return { parent: tempFolder };
  const why = tempProblem
    ? `the temp folder ${tempFolder} (TMPDIR) is not safe for the spawn helper's socket: ${tempProblem}`
    : `the temp folder ${tempFolder} (TMPDIR) is too long a path for the spawn helper's socket`;
  if (stateFolder && helperSocketFits(stateFolder)) {
    return { parent: stateFolder, note: `${why}; it goes in the state folder ${stateFolder} instead` };
  }
  const instead = stateFolder
    ? `the state folder ${stateFolder} is too long a path for it too`
    : 'there is no state folder (SC_STATE_DIR) to use instead';
  return { refused: `${why}, and ${instead}` };
}

import { rmdirSync } from 'fs';
import { acquireInstanceLock, bindError, type LockResult, ProcProcessTable, twinPortProblem } from '../adapters';
import type { ListenerSettings, ServersSettings } from '../config';
import { prepareStateFolder, StateFolderError } from './state-folder';

/** Either this process now owns the state folder and port, or the one line saying why not. */
export type InstanceClaim = { ok: true; release: () => void } | { ok: false; message: string };

/**
 * Runs before Nest creates anything (before the orphan reaper reads the journal): makes the state folder
 * safe, takes the instance lock, and checks PORT is free (and its twin: holdTwin). A second instance stops here
 * having touched nothing.
 */
export async function claimInstance(
  config: Pick<ListenerSettings, 'host' | 'port'> & Pick<ServersSettings, 'stateDir' | 'stateDirIsDefault'>,
): Promise<InstanceClaim> {
  let release = () => undefined as void;
  if (config.stateDir) {
    const dir = config.stateDir;
    let lock: LockResult;
    try {
      prepareStateFolder(dir);
      lock = acquireInstanceLock(dir, new ProcProcessTable());
    } catch (error) {
      // A read-only or full file system is a setting to fix, not a crash: one line naming the folder and the setting.
      const message = (error as Error).message;
      if (error instanceof StateFolderError) return { ok: false, message };
      return {
        ok: false,
        message: `state folder ${dir} cannot be used: ${message}: free or fix it, or set SC_STATE_DIR`,
      };
    }
    if (!lock.held) {
      const who = lock.holderPid === undefined ? 'another instance' : `another instance (pid ${lock.holderPid})`;
      return { ok: false, message: `${who} already runs with the state folder ${dir} (PORT ${config.port})` };
    }
    release = () => {
      lock.release();
      if (config.stateDirIsDefault) removeIfEmpty(dir);
    };
  }
  const busy =
    (await portProblem(config.port, config.host)) ?? (await twinPortProblem(config.host, config.port, 'PORT'));
  if (busy) {
    release();
    return { ok: false, message: busy };
  }
  return { ok: true, release };
}

/** Why the service cannot listen on PORT, or undefined (port 0 is always free). */
async function portProblem(port: number, host: string): Promise<string | undefined> {
  if (port === 0) return undefined;
  const error = await bindError(host, port);
  if (error === undefined) return undefined;
  return error.code === 'EADDRINUSE'
    ? `port ${port} on ${host} is already in use by another program (PORT)`
    : `cannot listen on ${host}:${port}: ${error.message}`;
}

/** Leaves nothing behind in the default state folder once the service stops; a folder with other files stays. */
function removeIfEmpty(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // not empty, or already gone
  }
}

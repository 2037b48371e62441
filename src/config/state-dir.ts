import * as os from 'os';
import * as path from 'path';
import type { Env } from './env-reader';

/**
 * Where the default state folder (`sc-spawner-<PORT>`) goes: a folder private to the service's user when the
 * system gives one (systemd's RuntimeDirectory= then StateDirectory=, which may list several folders, the
 * first being the service's; then the login session's $XDG_RUNTIME_DIR), else the shared temp folder.
 */
export function defaultStateParent(env: Env): string {
  for (const name of ['RUNTIME_DIRECTORY', 'STATE_DIRECTORY', 'XDG_RUNTIME_DIR']) {
    const first = env[name]?.split(':')[0]?.trim();
    if (first && path.isAbsolute(first)) return first;
  }
  return os.tmpdir();
}

import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { defaultCleanup, type Cleanup } from './processes';

/** A fresh temporary directory, removed (with its contents) at cleanup. */
export function makeTempDir(cleanup: Cleanup = defaultCleanup, prefix = 'sc-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanup.add(() => rmSync(dir, { recursive: true, force: true }), `temp dir ${dir}`);
  return dir;
}

/**
 * A state folder for a service process the test starts, unless `env` names one (SC_STATE_DIR): without it the
 * service keeps its state in `sc-spawner-<PORT>` in the temp folder, which would outlive the test. Removed by
 * `remove()` once the process has exited.
 */
export function ownStateDir(env: Record<string, string | undefined>): { env: Record<string, string>; remove(): void } {
  if ('SC_STATE_DIR' in env) return { env: {}, remove: () => undefined };
  const dir = mkdtempSync(join(tmpdir(), 'sc-test-state-'));
  return { env: { SC_STATE_DIR: dir }, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

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

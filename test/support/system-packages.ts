import { accessSync, constants } from 'fs';

/**
 * `path`, when Debian's `debPackage` provides it; otherwise throws, naming the command that installs it.
 * A test needing a system package fails without it, never skips: a green run has run everything.
 */
export function requireSystemBinary(path: string, debPackage: string): string {
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw new Error(`${debPackage} is not installed (${path} missing): run npm run setup`);
  }
  return path;
}

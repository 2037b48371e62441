import type { FileSystem } from '../adapters';

/** Why no server can be started from `executable` (missing or not executable), or undefined. Shared by readiness and the agent check. */
export function executableProblem(files: FileSystem, executable: string): string | undefined {
  return files.isExecutableFile(executable)
    ? undefined
    : `the Stream Cache Server executable is missing or not executable: ${executable}`;
}

/**
 * The benchmarks' anchors (bare simulator, minimal spawner) start their servers exactly as the service does:
 * the same environment (the service's allow-listed child environment, built by buildScCommand) and the same
 * CPU priority (the mechanism the service picks on this machine, through the same wrapper, in a group of the
 * bench's own). A row then compares the service's own cost, not two different ways of starting a process.
 */
import { spawn, type ChildProcess, type StdioOptions } from 'child_process';
import { NodeFileSystem } from '../../src/adapters/file-system.adapter';
import { findNice, startCommand, type ServerPlacement } from '../../src/adapters/process-launcher.adapter';
import { ProcSchedulingFiles } from '../../src/adapters/scheduling-files.adapter';
import { parseAppConfig } from '../../src/config/app-config';
import { createCpuPriority } from '../../src/cpu-priority/cpu-priority.module';
import { buildScCommand } from '../../src/supervisor/rules/sc-command';
import type { SpawnSpec } from '../../src/supervisor/rules/spawn-record';
import type { Cleanup } from '../support/processes';

export interface ServerStart {
  env: NodeJS.ProcessEnv;
  placement: ServerPlacement;
  /** coreutils' nice, for the no-perl fallback. */
  niceExecutable?: string;
  /** One line for the bench output. */
  description: string;
}

let shared: ServerStart | undefined;

/** How the service would start a server on this machine (its settings at their defaults), set up once per bench run. */
export function serverStartLikeService(cleanup: Cleanup): ServerStart {
  if (shared) return shared;
  const config = parseAppConfig({});
  const files = new NodeFileSystem();
  const priority = createCpuPriority(config, config, new ProcSchedulingFiles(), files);
  cleanup.add(async () => {
    await priority.onApplicationShutdown();
    shared = undefined;
  }, "the anchors' CPU priority groups");
  const spec = { id: 'anchor', wsPort: 1, rendererType: 'csr' } as SpawnSpec;
  const { env } = buildScCommand(config, spec, 'http://127.0.0.1:1/liveliness', process.env);
  shared = {
    env,
    placement: priority.placementFor('anchor'),
    niceExecutable: findNice(files),
    description: `anchors start their servers as the service does: its child environment (${Object.keys(env).length} variables) and CPU priority ${priority.mechanism}`,
  };
  return shared;
}

/** spawn() of a server the way ChildProcessLauncher does it. */
export function spawnLikeService(
  start: Pick<ServerStart, 'env' | 'placement' | 'niceExecutable'>,
  executable: string,
  args: string[],
  stdio: StdioOptions,
): ChildProcess {
  const command = startCommand({ executable, args, placement: start.placement }, start.niceExecutable);
  return spawn(command.file, command.args, { env: start.env, detached: command.detached, stdio });
}

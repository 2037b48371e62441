/**
 * The benchmarks' anchors (bare simulator, minimal spawner) start their servers exactly as the service does:
 * the same environment (the service's allow-listed child environment, built by buildScCommand) and the same
 * CPU priority (the mechanism the service picks on this machine, in a group of the bench's own) and the same
 * launcher (the service's spawn helper, SpawnHelperLauncher, where the mechanism uses the wrapper). A row then
 * compares the service's own cost, not two different ways of starting a process.
 */
import { mkdirSync, rmdirSync } from 'fs';
import * as path from 'path';
import { NodeFileSystem } from '../../src/adapters/file-system.adapter';
import type { ServerPlacement } from '../../src/adapters/process-launcher.adapter';
import { SpawnHelperLauncher } from '../../src/adapters/spawn-helper.adapter';
import { ProcSchedulingFiles } from '../../src/adapters/scheduling-files.adapter';
import { parseAppConfig } from '../../src/config/app-config';
import { createCpuPriority } from '../../src/cpu-priority/cpu-priority.module';
import { buildScCommand } from '../../src/supervisor/rules/sc-command';
import type { SpawnSpec } from '../../src/supervisor/rules/spawn-record';
import type { Cleanup } from '../support/processes';

export interface ServerStart {
  env: NodeJS.ProcessEnv;
  placement: ServerPlacement;
  /** One line for the bench output. */
  description: string;
}

let shared: ServerStart | undefined;

/** How the service would start a server on this machine (with the bench's settings), set up once per bench run. */
export function serverStartLikeService(cleanup: Cleanup): ServerStart {
  if (shared) return shared;
  // The services get the bench's environment (startService): a setting given to the bench (SC_CPU_PRIORITY=none...)
  // reaches the anchors too.
  const config = parseAppConfig(process.env);
  const files = new NodeFileSystem();
  const priority = createCpuPriority(config, config, new ProcSchedulingFiles(), files);
  cleanup.add(async () => {
    await closeAnchorLauncher();
    await priority.onApplicationShutdown();
    shared = undefined;
  }, "the anchors' launcher and CPU priority groups");
  const spec = { id: 'anchor', wsPort: 1, rendererType: 'csr' } as SpawnSpec;
  const { env } = buildScCommand(config, spec, 'http://127.0.0.1:1/liveliness', process.env);
  shared = {
    env,
    placement: priority.placementFor('anchor'),
    description: `anchors start their servers as the service does: its child environment (${Object.keys(env).length} variables) and CPU priority ${priority.mechanism}`,
  };
  return shared;
}

export interface AnchorServer {
  pid: number;
  exited: Promise<void>;
  kill(signal: NodeJS.Signals): void;
}

let launcher: SpawnHelperLauncher | undefined;
let serversStarted = 0;

/**
 * Where one server goes: with a cgroup mechanism, a group of its own next to the service's placement's, as the
 * service makes one per server (CpuPriority.placementFor); removed once it has exited (released()).
 */
function placeOneServer(placement: ServerPlacement): { placement: ServerPlacement; release(): Promise<void> } {
  if (!placement.cgroupProcs) return { placement, release: () => Promise.resolve() };
  const dir = path.join(path.dirname(path.dirname(placement.cgroupProcs)), `anchor-${process.pid}-${++serversStarted}`);
  mkdirSync(dir);
  const release = async () => {
    for (let attempt = 0; ; attempt++) {
      try {
        return rmdirSync(dir);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EBUSY' || attempt >= 20) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  };
  return { placement: { ...placement, cgroupProcs: path.join(dir, 'cgroup.procs') }, release };
}

/** Starts a server with the service's own launcher; its output is read and dropped. */
export async function launchLikeService(
  start: Pick<ServerStart, 'env' | 'placement'>,
  executable: string,
  args: string[],
): Promise<AnchorServer> {
  launcher ??= new SpawnHelperLauncher(new NodeFileSystem());
  const own = placeOneServer(start.placement);
  let exit!: () => void;
  // A group still busy is removed with the rest by the CPU priority's shutdown (serverStartLikeService's cleanup).
  const exited = new Promise<void>((resolve) => (exit = resolve)).then(() => own.release().catch(() => undefined));
  const launched = await launcher.launch(
    { executable, args, env: start.env, placement: own.placement },
    { onLine: () => undefined, onExit: () => exit() },
  );
  return { pid: launched.pid!, exited, kill: (signal) => void launched.signalGroup(signal) };
}

/** Ends the anchors' launcher (its helper process) once their servers are gone. */
export async function closeAnchorLauncher(): Promise<void> {
  await launcher?.onApplicationShutdown();
  launcher = undefined;
}

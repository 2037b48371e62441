import * as path from 'path';
import { ScServerOptions, toArgv } from '@app/sc-protocol';
import type { AppConfig } from '../config/app-config';
import type { LaunchCommand } from '../adapters/process-launcher.adapter';
import type { SpawnSpec } from './spawn-record';

/** Builds the exact command line and environment for one Stream Cache Server. Never goes through a shell. */
export function buildScCommand(
  config: AppConfig,
  spec: SpawnSpec,
  livelinessEndpoint: string,
  baseEnv: NodeJS.ProcessEnv = process.env,
): LaunchCommand {
  const ssr = spec.rendererType === 'ssr';
  const options: ScServerOptions = {
    id: spec.id,
    scPort: spec.wsPort,
    license: config.license,
    licenseFile: config.license ? undefined : config.licenseFile,
    csr: ssr ? undefined : true,
    ssr: ssr ? true : undefined,
    ssrGpuIndex: ssr ? (spec.gpuIndex ?? config.ssrGpuIndex) : undefined,
    ssrEgl: ssr && config.ssrEgl ? true : undefined,
    modelSearchDirectories: modelSearchPath(config, spec),
    modelFile: spec.model,
    sessionToken: spec.sessionToken,
    workspaceDir: config.workspaceDir,
    livelinessEndpoint,
    livelinessUpdateFrequency: config.livelinessIntervalS,
    // A warm server may wait up to SC_WARM_MAX_AGE_S in the pool and must then still give its claimant the full duration.
    initialUseDuration: spec.warm ? config.warmMaxAgeS + config.initialUseDurationS : config.initialUseDurationS,
  };
  const env: NodeJS.ProcessEnv = { ...baseEnv };
  const executableDir = path.dirname(config.scExecutable);
  env.LD_LIBRARY_PATH = env.LD_LIBRARY_PATH ? `${executableDir}${path.delimiter}${env.LD_LIBRARY_PATH}` : executableDir;
  if (ssr) {
    // EGL renders headless and must not see a DISPLAY; the X path needs one.
    if (config.ssrEgl) delete env.DISPLAY;
    else env.DISPLAY = config.ssrDisplay;
  }
  return {
    executable: config.scExecutable,
    args: [...toArgv(options), ...config.extraArgs],
    env,
    cwd: config.workspaceDir,
  };
}

function modelSearchPath(config: AppConfig, spec: SpawnSpec): string[] | undefined {
  // A Set keeps first occurrences in order: the client's folders first, and no folder twice (not even within the client's list).
  const dirs = [...new Set([...(spec.extraModelDirs ?? []), ...config.modelDirs])];
  return dirs.length > 0 ? dirs : undefined;
}

/** The command line as it may be logged: the license key is never shown. */
export function redactArgs(args: readonly string[]): string[] {
  return args.map((arg, i) => {
    if (args[i - 1] === '--license' || args[i - 1] === '--session-token') return '***';
    if (arg.startsWith('--license=') || arg.startsWith('--session-token=')) return `${arg.split('=')[0]}=***`;
    return arg;
  });
}

import * as path from 'path';
import { ScServerOptions, toArgv } from '@app/sc-protocol';
import type {
  ChildEnvSettings,
  RenderingSettings,
  ServersSettings,
  TimingSettings,
  WarmPoolSettings,
} from '../../config';
import type { SpawnSpec } from './spawn-record';

/** A server's command as the process launcher runs it (structurally the launcher adapter's LaunchCommand). */
export interface ServerCommand {
  executable: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd?: string;
  /** Where it runs for the CPU; SpawnProcesses completes it with the CPU priority mechanism's placement. */
  placement: {
    nice: number;
    autogroupNice?: number;
    cgroupProcs?: string;
    wrapper?: string;
    helperCgroupProcs?: string;
  };
}

/** The settings a server's command line is made of: five sections of the configuration. */
export type ServerCommandSettings = ServersSettings &
  ChildEnvSettings &
  Pick<TimingSettings, 'livelinessIntervalS' | 'initialUseDurationS'> &
  Pick<RenderingSettings, 'ssrDisplay' | 'ssrEgl' | 'ssrGpuIndex'> &
  Pick<WarmPoolSettings, 'warmMaxAgeS'>;

/** Builds the exact command line and environment for one Stream Cache Server. Never goes through a shell. */
export function buildScCommand(
  config: ServerCommandSettings,
  spec: SpawnSpec,
  livelinessEndpoint: string,
  baseEnv: NodeJS.ProcessEnv = process.env,
): ServerCommand {
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
  const env = childEnvironment(baseEnv, config.childEnv, config.settingNames);
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
    // Replaced by SpawnProcesses with where CpuPriority puts the server.
    placement: { nice: config.childNice },
  };
}

/**
 * The variables a server gets from the service's environment, when they are set: the basics of a process
 * (PATH, HOME, locale, time zone, temp folder), the X display and what GPU drivers read for SSR, and
 * LD_LIBRARY_PATH (the executable's folder is put first). A name ending in '*' is a prefix.
 */
export const CHILD_ENV_ALLOW_LIST: readonly string[] = [
  'PATH',
  'HOME',
  'LANG',
  'LANGUAGE',
  'LC_*',
  'TZ',
  'TMPDIR',
  'LD_LIBRARY_PATH',
  'DISPLAY',
  'XAUTHORITY',
  'XDG_RUNTIME_DIR',
  'EGL_PLATFORM',
  '__GLX_*',
  '__EGL_*',
  '__NV_*',
  'NVIDIA_*',
  'CUDA_VISIBLE_DEVICES',
  'MESA_*',
  'LIBGL_*',
];

function matchesName(name: string, pattern: string): boolean {
  return pattern.endsWith('*') ? name.startsWith(pattern.slice(0, -1)) : name === pattern;
}

/**
 * A server's environment: only the allow-listed variables and those named in SC_CHILD_ENV (`passOn`), and never
 * one of the service's own settings (`settingNames`: SC_LICENSE, PORT...), whatever the lists say.
 */
export function childEnvironment(
  base: NodeJS.ProcessEnv,
  passOn: readonly string[],
  settingNames: ReadonlySet<string>,
): NodeJS.ProcessEnv {
  const patterns = [...CHILD_ENV_ALLOW_LIST, ...passOn];
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(base)) {
    if (value === undefined || settingNames.has(name)) continue;
    if (patterns.some((pattern) => matchesName(name, pattern))) env[name] = value;
  }
  return env;
}

function modelSearchPath(config: Pick<ServersSettings, 'modelDirs'>, spec: SpawnSpec): string[] | undefined {
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

import { existsSync } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseEnv } from 'util';
import { type FileSystem, findNice, NICE_CANDIDATES, NodeFileSystem } from '../adapters';
import {
  AppConfig,
  ConfigError,
  type Env,
  evaluateHoopsConfig,
  hoopsConfigToEnv,
  isSecretSetting,
  readAppConfig,
  SIMULATOR_DUMMY_LICENSE,
} from '../config';
import { tlsFileProblems } from './tls-files';

/** A configuration file larger than this is not a configuration file. */
const MAX_CONFIG_BYTES = 1024 * 1024;

/** Settings that stand or fall together: one given in the environment replaces the other from the file too. */
const PAIRED = [['SC_LICENSE', 'SC_LICENSE_FILE']];

/**
 * The configuration the service starts with: the environment over the HOOPS Server configuration file named by
 * HOOPS_CONFIG (if any), parsed (readAppConfig, pure), and checked against this machine (the executable, nice).
 * A ConfigError lists every problem of every kind.
 */
export function loadAppConfig(
  env: Env,
  files: FileSystem,
  homeDir: string = os.homedir(),
  dotEnv: DotEnv = NO_DOT_ENV,
): AppConfig {
  const hoops = readHoopsConfig(env, files, homeDir);
  const { config, problems } = readAppConfig({ ...env, ...hoops.env }, hoops.sources);
  const named = (problem: string): string => withDotEnvSource(withSource(problem, hoops), dotEnv);
  const all = problems.map(named);
  all.push(...hostProblems(config, files).map(named));
  if (all.length > 0) throw new ConfigError(all);
  for (const setting of config.settings)
    if (setting.source === 'env' && dotEnv.names.has(setting.name)) setting.source = '.env';
  config.dotEnvFile = dotEnv.file;
  // A secret the environment also sets is still in the file, for whoever may read it.
  config.dotEnvSecrets = [...dotEnv.held].filter(isSecretSetting);
  if (hoops.file) {
    config.hoopsConfigFile = hoops.file;
    config.hoopsConfigWarnings = hoops.warnings;
  }
  return config;
}

interface HoopsSettings {
  file?: string;
  /** Our settings taken from the file (only those the environment does not give). */
  env: Env;
  /** For each of those, the Config.js setting it came from. */
  sources: Record<string, string>;
  warnings: string[];
}

/** The HOOPS configuration file, read through the FileSystem adapter, evaluated in a sandbox and mapped. */
function readHoopsConfig(env: Env, files: FileSystem, homeDir: string): HoopsSettings {
  const named = env.HOOPS_CONFIG?.trim();
  if (!named) return { env: {}, sources: {}, warnings: [] };
  const file = path.resolve(named);
  let source: string;
  try {
    source = files.readTrustedText(file, MAX_CONFIG_BYTES);
  } catch (error) {
    throw new ConfigError([`HOOPS_CONFIG ${file} cannot be read: ${(error as Error).message}`]);
  }
  const mapping = hoopsConfigToEnv(evaluateHoopsConfig(source, file, path.dirname(file)), file, homeDir);
  if (mapping.problems.length > 0) throw new ConfigError(mapping.problems.map((p) => `HOOPS_CONFIG ${file}: ${p}`));

  const given = (name: string): boolean => (env[name] ?? '').trim() !== '';
  const fromFile = { ...mapping.env };
  for (const name of Object.keys(fromFile)) if (given(name)) delete fromFile[name];
  for (const pair of PAIRED) if (pair.some(given)) for (const name of pair) delete fromFile[name];
  const sources = Object.fromEntries(Object.keys(fromFile).map((name) => [name, mapping.sources[name]]));
  return { file, env: fromFile, sources, warnings: mapping.warnings };
}

/** Names the Config.js setting behind a bad value, not only our variable. */
function withSource(problem: string, hoops: HoopsSettings): string {
  const name = Object.keys(hoops.sources).find((n) => problem.startsWith(n) || problem.includes(` ${n} `));
  return name ? `${problem} (from ${hoops.sources[name]} in ${hoops.file})` : problem;
}

/** The variables a `.env` file gave (those the environment did not already have). */
export interface DotEnv {
  file?: string;
  /** The variables it set (those the environment had not). */
  names: ReadonlySet<string>;
  /** Every variable it holds. */
  held: ReadonlySet<string>;
}
const NO_DOT_ENV: DotEnv = { names: new Set(), held: new Set() };

/** Names the `.env` file behind a bad value. */
function withDotEnvSource(problem: string, dotEnv: DotEnv): string {
  const name = [...dotEnv.names].find((n) => problem.startsWith(`${n} `) || problem.startsWith(`${n}=`));
  return name ? `${problem} (from .env ${dotEnv.file})` : problem;
}

/** What the settings name but this machine does not have. */
export function hostProblems(config: AppConfig, files: FileSystem): string[] {
  const problems: string[] = [];
  const name = config.usingSimulator ? 'the bundled simulator (SC_EXECUTABLE is not set)' : 'SC_EXECUTABLE';
  const executable = files.executableProblem(config.scExecutable);
  if (executable) problems.push(`${name} must be an executable file: ${config.scExecutable} ${executable}`);
  // Every server runs it, as the service's user: code another user could change is code they run as that user.
  // Not the bundled simulator: it sits among the service's own files, which whoever could change it could change
  // too, and a checkout made with umask 002 (a private group's) would be refused for nothing.
  const untrusted = executable || config.usingSimulator ? undefined : files.untrustedCodeProblem(config.scExecutable);
  if (untrusted) problems.push(`${name} ${config.scExecutable} could be changed by another user: ${untrusted}`);
  // The servers start in it and write their files there: another user's folder would have them, or their links.
  const workspace = config.workspaceDir && files.untrustedFolderProblem(config.workspaceDir);
  if (workspace) problems.push(`SC_WORKSPACE_DIR ${config.workspaceDir} ${workspace}`);
  // As the HOOPS Server does: a license file that cannot be read would make every server exit 7 (invalid license file).
  if (config.licenseFile && !config.license && config.licenseFile !== SIMULATOR_DUMMY_LICENSE) {
    try {
      files.readText(config.licenseFile, 1);
    } catch (error) {
      problems.push(`SC_LICENSE_FILE cannot be read: ${config.licenseFile} (${(error as Error).message})`);
    }
  }
  problems.push(...tlsFileProblems(config, files));
  if (config.childNice > 0 && !findNice(files)) {
    problems.push(
      `SC_NICE=${config.childNice} needs coreutils' nice (${NICE_CANDIDATES.join(' or ')}), which is missing: install coreutils, or set SC_NICE=0`,
    );
  }
  return problems;
}

/**
 * Reads `.env` beside package.json (whatever the working directory) into process.env; variables already set win.
 * Not under tests unless SPAWNER_DOTENV_DIR names the folder to read it from. Returns the variables it set.
 * It is checked as Config.js is: a `.env` another user could change would let them add an API key, name the
 * executable the servers run or open the service to the network.
 */
export function loadEnvFile(env: Env = process.env, files: FileSystem = new NodeFileSystem()): DotEnv {
  const folder = env.NODE_ENV === 'test' ? env.SPAWNER_DOTENV_DIR : packageRoot();
  if (!folder) return NO_DOT_ENV;
  const file = path.join(folder, '.env');
  if (!existsSync(file)) return NO_DOT_ENV;
  let parsed: NodeJS.Dict<string>;
  try {
    parsed = parseEnv(files.readTrustedText(file, MAX_CONFIG_BYTES));
  } catch (error) {
    throw new ConfigError([`.env ${file} cannot be read: ${(error as Error).message}`]);
  }
  const names = new Set(Object.keys(parsed).filter((name) => env[name] === undefined));
  for (const name of names) env[name] = parsed[name];
  return { file, names, held: new Set(Object.keys(parsed)) };
}

/** The folder holding package.json (next to dist/ once installed): where `.env` is read from. */
export function packageRoot(from: string = __dirname): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) return process.cwd();
  }
}

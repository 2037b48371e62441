import * as path from 'path';
import type { FileSystem } from '../adapters/file-system.adapter';
import { AppConfig, ConfigError, parseAppConfig } from './app-config';
import type { Env } from './env-reader';
import { evaluateHoopsConfig } from './hoops-config-file';
import { hoopsConfigToEnv } from './hoops-config';

/** A configuration file larger than this is not a configuration file. */
const MAX_CONFIG_BYTES = 1024 * 1024;

/** Settings that stand or fall together: one given in the environment replaces the other from the file too. */
const PAIRED = [['SC_LICENSE', 'SC_LICENSE_FILE']];

/**
 * The service's configuration: the environment, over the HOOPS Server configuration file named by HOOPS_CONFIG
 * (if any). The file is read through the FileSystem adapter, evaluated in a sandbox, mapped to our settings
 * (hoopsConfigToEnv) and merged under the environment, so an environment variable always wins.
 */
export function loadAppConfig(env: Env, files: FileSystem, homeDir: string): AppConfig {
  const named = env.HOOPS_CONFIG?.trim();
  if (!named) return parseAppConfig(env);
  const file = path.resolve(named);
  let source: string;
  try {
    source = files.readText(file, MAX_CONFIG_BYTES);
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

  const executable = fromFile.SC_EXECUTABLE;
  if (executable !== undefined && !files.isExecutableFile(executable)) {
    throw new ConfigError([
      `HOOPS_CONFIG ${file}: the Stream Cache Server ${executable} (${sources.SC_EXECUTABLE}) is not an executable file`,
    ]);
  }
  let config: AppConfig;
  try {
    config = parseAppConfig({ ...env, ...fromFile }, sources);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // Name the Config.js setting behind a bad value, not only our variable.
    throw new ConfigError(
      error.problems.map((problem) => {
        const name = Object.keys(sources).find((n) => problem.startsWith(n) || problem.includes(` ${n} `));
        return name ? `${problem} (from ${sources[name]} in ${file})` : problem;
      }),
    );
  }
  config.hoopsConfigFile = file;
  config.hoopsConfigWarnings = mapping.warnings;
  return config;
}

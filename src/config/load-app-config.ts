import { existsSync } from 'fs';
import * as path from 'path';
import type { FileSystem } from '../adapters/file-system.adapter';
import { findNice, NICE_CANDIDATES } from '../adapters/process-launcher.adapter';
import { AppConfig, ConfigError, readAppConfig } from './app-config';
import { packageRoot } from './bundled-files';
import type { Env } from './env-reader';

/**
 * The configuration the service starts with: the settings (readAppConfig, pure) and what they name on this
 * machine (the executable, nice). A ConfigError lists every problem of both kinds.
 */
export function loadAppConfig(env: Env, files: FileSystem): AppConfig {
  const { config, problems } = readAppConfig(env);
  problems.push(...hostProblems(config, files));
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** What the settings name but this machine does not have. */
export function hostProblems(config: AppConfig, files: FileSystem): string[] {
  const problems: string[] = [];
  const executable = files.executableProblem(config.scExecutable);
  if (executable) {
    const name = config.usingSimulator ? 'the bundled simulator (SC_EXECUTABLE is not set)' : 'SC_EXECUTABLE';
    problems.push(`${name} must be an executable file: ${config.scExecutable} ${executable}`);
  }
  if (config.childNice > 0 && !findNice(files)) {
    problems.push(
      `SC_NICE=${config.childNice} needs coreutils' nice (${NICE_CANDIDATES.join(' or ')}), which is missing: install coreutils, or set SC_NICE=0`,
    );
  }
  return problems;
}

/** Reads `.env` beside package.json (whatever the working directory) into process.env; variables already set win. Not under tests. */
export function loadEnvFile(env: Env = process.env): void {
  if (env.NODE_ENV === 'test') return;
  const file = path.join(packageRoot(), '.env');
  if (existsSync(file)) process.loadEnvFile(file);
}

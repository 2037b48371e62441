import type { LoggerService } from '@nestjs/common';
import { type FileSystem, secretFileExposure } from '../adapters';
import {
  type AppConfig,
  type Env,
  ephemeralOverlapWarning,
  parsePortRange,
  SIMULATOR_DUMMY_LICENSE,
  settingsObject,
  settingsTable,
  tlsHostnameWarning,
  unknownSettingWarnings,
} from '../config';

import { SOMAXCONN_FILE, somaxconnWarning } from '../http';
import { openModelDirWarnings } from './model-dirs';
import { tlsKeyWarning } from './tls-files';

export const EPHEMERAL_RANGE_FILE = '/proc/sys/net/ipv4/ip_local_port_range';

/**
 * Warnings about settings that parse but are probably not what was meant (typos, ports the kernel hands out), and
 * about a kernel that caps the accept queue low.
 */
export function startupAdvice(config: AppConfig, env: Env, files: FileSystem): string[] {
  const warnings = unknownSettingWarnings(env, config.settingNames, config.childEnv);
  const overlap = ephemeralOverlapWarning(config, parsePortRange(readOrEmpty(files, EPHEMERAL_RANGE_FILE)));
  if (overlap) warnings.push(overlap);
  const backlog = somaxconnWarning(readOrEmpty(files, SOMAXCONN_FILE));
  if (backlog) warnings.push(backlog);
  const tlsHostname = tlsHostnameWarning(config);
  if (tlsHostname) warnings.push(tlsHostname);
  const license = licenseFileWarning(config.licenseFile, files);
  if (license) warnings.push(license);
  const tlsKey = tlsKeyWarning(config, files);
  if (tlsKey) warnings.push(tlsKey);
  warnings.push(...openModelDirWarnings(config.modelDirs, files));
  const dotEnv = dotEnvSecretsWarning(config, files);
  if (dotEnv) warnings.push(dotEnv);
  return warnings;
}

/**
 * A warning when every local user may read SC_LICENSE_FILE, whose path every server's command line shows (not the
 * simulator's bundled dummy, which holds no secret). Said, not refused, as for API_KEYS_FILE: a container's secret
 * mount may be 0444 on a host that has no other user.
 */
function licenseFileWarning(file: string | undefined, files: FileSystem): string | undefined {
  if (!file || file === SIMULATOR_DUMMY_LICENSE) return undefined;
  let problem: string | undefined;
  try {
    problem = secretFileExposure(files.modeOf(file));
  } catch {
    return undefined;
  }
  return problem && `SC_LICENSE_FILE ${file} ${problem}: its path is on every server's command line`;
}

/** A warning when every local user may read the `.env` that holds a secret (API_KEYS, SC_LICENSE, CLUSTER_KEY). */
function dotEnvSecretsWarning(config: AppConfig, files: FileSystem): string | undefined {
  const secrets = config.dotEnvSecrets;
  if (!config.dotEnvFile || secrets.length === 0) return undefined;
  let problem: string | undefined;
  try {
    problem = secretFileExposure(files.modeOf(config.dotEnvFile));
  } catch {
    return undefined;
  }
  return problem && `.env ${config.dotEnvFile} ${problem}: it gives ${secrets.join(', ')}`;
}

function readOrEmpty(files: FileSystem, file: string): string {
  try {
    return files.readText(file, 4096);
  } catch {
    return '';
  }
}

/** The effective settings, once: one JSON line with {settings: {NAME: {value, source}}}, or a table for people. */
export function logSettings(logger: LoggerService, config: AppConfig): void {
  if (config.logFormat === 'pretty') logger.log(`effective settings:\n${settingsTable(config.settings)}`);
  else logger.log({ settings: settingsObject(config.settings), msg: 'effective settings' });
}

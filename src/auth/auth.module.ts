import { Global, Inject, Logger, Module } from '@nestjs/common';
import { APP_GUARD, DiscoveryModule } from '@nestjs/core';
import { FileSystem, secretFileExposure } from '../adapters';
import {
  ACCESS_SETTINGS,
  type AccessSettings,
  CLUSTER_SETTINGS,
  type ClusterSettings,
  ConfigError,
  isUsableApiKey,
  LISTENER_SETTINGS,
  type ListenerSettings,
  MIN_API_KEY_LENGTH,
} from '../config';
import { ApiKeyGuard } from './api-key.guard';
import { ApiKeys, parseApiKeysFile } from './api-keys';

const MAX_KEYS_FILE_BYTES = 1024 * 1024;

/** API_KEYS, or API_KEYS_FILE read once at start-up; a file that cannot be read or holds no key stops the service. */
export function loadApiKeys(
  access: Pick<AccessSettings, 'apiKeys' | 'apiKeysFile'>,
  cluster: Pick<ClusterSettings, 'clusterKey'>,
  files: FileSystem,
): ApiKeys {
  const keys = readKeys(access, files);
  // CLUSTER_KEY opens what any key opens, but alone it does not turn keys on (a node without keys needs none).
  return new ApiKeys(keys, keys.length > 0 && cluster.clusterKey ? [cluster.clusterKey] : []);
}

function readKeys(config: Pick<AccessSettings, 'apiKeys' | 'apiKeysFile'>, files: FileSystem): string[] {
  if (!config.apiKeysFile) return config.apiKeys;
  let text: string;
  try {
    text = files.readTrustedText(config.apiKeysFile, MAX_KEYS_FILE_BYTES);
  } catch (error) {
    throw new ConfigError([`API_KEYS_FILE ${config.apiKeysFile} cannot be read: ${(error as Error).message}`]);
  }
  const keys = parseApiKeysFile(text);
  if (keys.length === 0) {
    throw new ConfigError([`API_KEYS_FILE ${config.apiKeysFile} holds no key (one a line; # starts a comment)`]);
  }
  const bad = keys.findIndex((key) => !isUsableApiKey(key));
  if (bad >= 0) {
    throw new ConfigError([
      `API_KEYS_FILE ${config.apiKeysFile}: key ${bad + 1} is too short or holds a space or a character other than printable ASCII (at least ${MIN_API_KEY_LENGTH} characters, printable ASCII, no spaces)`,
    ]);
  }
  return keys;
}

/**
 * A warning when every local user may read API_KEYS_FILE, and so use its keys; undefined otherwise. Said, not
 * refused: a container's secret mount may be 0444 on a host that has no other user.
 */
export function keysFileWarning(file: string | undefined, files: FileSystem): string | undefined {
  if (!file) return undefined;
  let problem: string | undefined;
  try {
    problem = secretFileExposure(files.modeOf(file));
  } catch {
    return undefined;
  }
  return problem && `API_KEYS_FILE ${file} ${problem}: any local user may read its keys and use them`;
}

/** Access by API key: the keys and the global guard. */
@Global()
@Module({
  // DiscoveryModule: the OpenAPI document reads the same route markers as the guard (src/http/openapi.ts).
  imports: [DiscoveryModule],
  providers: [
    { provide: ApiKeys, useFactory: loadApiKeys, inject: [ACCESS_SETTINGS.token, CLUSTER_SETTINGS.token, FileSystem] },
    { provide: APP_GUARD, useClass: ApiKeyGuard },
  ],
  exports: [ApiKeys],
})
export class AuthModule {
  constructor(
    keys: ApiKeys,
    @Inject(LISTENER_SETTINGS.token) config: ListenerSettings,
    @Inject(ACCESS_SETTINGS.token) access: AccessSettings,
    files: FileSystem,
  ) {
    const exposed = keysFileWarning(access.apiKeysFile, files);
    if (exposed) new Logger('Access').warn(exposed);
    if (!keys.enabled && !isLoopback(config.host)) {
      new Logger('Access').warn(
        `no API_KEYS: anyone who reaches ${config.host}:${config.port} can list, read and stop every session; set API_KEYS (or API_KEYS_FILE) and CORS_ORIGINS`,
      );
    }
  }
}

export function isLoopback(host: string): boolean {
  return /^(127\.\d+\.\d+\.\d+|::1|localhost)$/i.test(host);
}

import * as path from 'path';
import { LOG_LEVELS } from '../app-config.model';
import type { EnvReader } from '../env-reader';
import { settingsSection, type SettingsOf } from '../settings-section';
import { isUsableApiKey, MIN_API_KEY_LENGTH, parseRateLimit } from '../setting-parsers';

/** Who may use what (keys, spawn auth, public metrics, the rate limit), and what the service says about it (logs). */
export const ACCESS_SETTINGS = settingsSection('AccessSettings', [
  'apiKeys',
  'apiKeysFile',
  'spawnAuthRequired',
  'metricsPublic',
  'spawnRateLimit',
  'logFormat',
  'logLevel',
  'sseKeepAliveMs',
]);
export type AccessSettings = SettingsOf<typeof ACCESS_SETTINGS>;

export function readAccess(read: EnvReader): AccessSettings {
  const apiKeys = read.list('API_KEYS', ',');
  const named = read.string('API_KEYS_FILE');
  const apiKeysFile = named ? path.resolve(named) : undefined;
  if (apiKeysFile && apiKeys.length > 0) {
    read.problems.push('API_KEYS and API_KEYS_FILE are both set: set only one');
  } else if (read.raw('API_KEYS') !== undefined && apiKeys.length === 0) {
    read.problems.push('API_KEYS is set but holds no key (comma-separated keys expected)');
  }
  const badKey = apiKeys.find((key) => !isUsableApiKey(key));
  if (badKey !== undefined) {
    read.problems.push(
      `API_KEYS: every key needs at least ${MIN_API_KEY_LENGTH} characters, printable ASCII and no spaces (one key is ${badKey.length} characters long)`,
    );
  }
  const spawnAuthRequired = read.oneOf('SPAWN_AUTH', ['open', 'required'] as const, 'open') === 'required';
  if (spawnAuthRequired && apiKeys.length === 0 && !apiKeysFile) {
    read.problems.push('SPAWN_AUTH=required needs API_KEYS or API_KEYS_FILE');
  }
  return {
    apiKeys,
    apiKeysFile,
    spawnAuthRequired,
    metricsPublic: read.bool('METRICS_PUBLIC', false),
    spawnRateLimit: parseRateLimit(read),
    logFormat: read.oneOf('LOG_FORMAT', ['json', 'pretty'] as const, 'json')!,
    logLevel: read.oneOf('LOG_LEVEL', LOG_LEVELS, 'info')!,
    sseKeepAliveMs: read.int('SSE_KEEPALIVE_MS', 15_000, 10, 3_600_000),
  };
}

import type { EnvReader } from '../env-reader';
import { CPU_PRIORITY_CHOICES } from '../setting-parsers';
import { settingsSection, type SettingsOf } from '../settings-section';

/** How the servers are ranked below the service for the CPU, and the cores and memory each may use at most. */
export const SERVER_RESOURCES_SETTINGS = settingsSection('ServerResourcesSettings', [
  'cpuPriority',
  'serverCpuMax',
  'serverMemoryMax',
]);
export type ServerResourcesSettings = SettingsOf<typeof SERVER_RESOURCES_SETTINGS>;

const MEMORY_UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** SC_CPU_PRIORITY, SC_SERVER_CPU_MAX (cores, e.g. 1.5) and SC_SERVER_MEMORY_MAX (bytes, or with K, M, G, T: 1024-based). */
export function readServerResources(read: EnvReader): ServerResourcesSettings {
  const cpuPriority = read.oneOf('SC_CPU_PRIORITY', CPU_PRIORITY_CHOICES, 'auto') ?? 'auto';
  return { cpuPriority, serverCpuMax: readCpuMax(read), serverMemoryMax: readMemoryMax(read) };
}

function readCpuMax(read: EnvReader): number | undefined {
  const cores = read.raw('SC_SERVER_CPU_MAX');
  if (cores === undefined) return undefined;
  const value = /^\d+(\.\d+)?$/.test(cores) ? Number(cores) : NaN;
  if (value >= 0.01 && value <= 1024) return value;
  read.problems.push(
    `SC_SERVER_CPU_MAX must be a number of cores from 0.01 to 1024 (e.g. 1.5), got ${JSON.stringify(cores)}`,
  );
  return undefined;
}

function readMemoryMax(read: EnvReader): number | undefined {
  const memory = read.raw('SC_SERVER_MEMORY_MAX');
  if (memory === undefined) return undefined;
  const match = /^(\d+)\s*([kmgt]?)i?b?$/i.exec(memory);
  const bytes = match ? Number(match[1]) * MEMORY_UNITS[match[2].toLowerCase()] : NaN;
  if (bytes >= 16 * 1024 ** 2 && Number.isSafeInteger(bytes)) return bytes;
  read.problems.push(
    `SC_SERVER_MEMORY_MAX must be a size of at least 16M (bytes, or with K, M, G or T, e.g. 2G), got ${JSON.stringify(memory)}`,
  );
  return undefined;
}

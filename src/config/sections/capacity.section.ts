import type { EnvReader } from '../env-reader';
import { settingsSection, type SettingsOf } from '../settings-section';

/** How many servers may run at once, and the WebSocket ports they are given. */
export const CAPACITY_SETTINGS = settingsSection('CapacitySettings', ['maxSpawns', 'portBase', 'portCount']);
export type CapacitySettings = SettingsOf<typeof CAPACITY_SETTINGS>;

/** `others`: the service's own ports, which must lie outside the servers' range. */
export function readCapacity(read: EnvReader, others: { port: number; agentCheckPort?: number }): CapacitySettings {
  const maxSpawns = read.int('SC_MAX_SPAWNS', 32, 1, 10000);
  const portBase = read.int('SC_PORT_BASE', 11000, 1, 65535);
  const portCount = read.int('SC_PORT_COUNT', 2 * maxSpawns, 1, 65535);
  if (portBase + portCount - 1 > 65535) {
    read.problems.push(`SC_PORT_BASE + SC_PORT_COUNT - 1 must not exceed 65535 (got ${portBase} + ${portCount} - 1)`);
  }
  const inRange = (port: number) => port >= portBase && port < portBase + portCount;
  if (inRange(others.port)) {
    read.problems.push(
      `PORT ${others.port} lies inside the WebSocket port range SC_PORT_BASE..SC_PORT_BASE+SC_PORT_COUNT-1`,
    );
  }
  const agent = others.agentCheckPort;
  if (agent !== undefined && inRange(agent)) {
    read.problems.push(
      `AGENT_CHECK_PORT ${agent} lies inside the WebSocket port range SC_PORT_BASE..SC_PORT_BASE+SC_PORT_COUNT-1`,
    );
  }
  return { maxSpawns, portBase, portCount };
}

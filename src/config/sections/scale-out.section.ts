import type { EnvReader } from '../env-reader';
import { settingsSection, type SettingsOf } from '../settings-section';
import { parseNodeName, parsePublicBaseUrl } from '../setting-parsers';
import type { ListenerSettings } from './listener.section';

/** This node among others: its name, the balancer's address, the agent check and the drain on SIGTERM. */
export const SCALE_OUT_SETTINGS = settingsSection('ScaleOutSettings', [
  'nodeName',
  'publicBaseUrl',
  'agentCheckPort',
  'drainTimeoutS',
]);
export type ScaleOutSettings = SettingsOf<typeof SCALE_OUT_SETTINGS>;

export function readScaleOut(
  read: EnvReader,
  hostName: string,
  listener: Pick<ListenerSettings, 'port'>,
): ScaleOutSettings {
  const nodeName = parseNodeName(read, hostName);
  const publicBaseUrl = parsePublicBaseUrl(read);
  const agentPort = read.raw('AGENT_CHECK_PORT');
  const agentCheckPort = agentPort === undefined ? undefined : read.int('AGENT_CHECK_PORT', 0, 1, 65535);
  if (agentCheckPort !== undefined && agentCheckPort === listener.port && listener.port !== 0) {
    read.problems.push(`AGENT_CHECK_PORT must differ from PORT (both ${listener.port})`);
  }
  const drainTimeoutS = /^0+(\.0+)?$/.test(read.raw('DRAIN_TIMEOUT_S') ?? '') ? 0 : read.seconds('DRAIN_TIMEOUT_S', 0);
  return { nodeName, publicBaseUrl, agentCheckPort, drainTimeoutS };
}

import type { EnvReader } from '../env-reader';
import { isUsableApiKey, MIN_API_KEY_LENGTH, MIN_PERIOD_S } from '../setting-parsers';
import { settingsSection, type SettingsOf } from '../settings-section';
import type { ListenerSettings } from './listener.section';

/** How a node finds the other nodes of its fleet (SC_PEERS or SC_PEERS_DNS) and the key they send each other. */
export const CLUSTER_SETTINGS = settingsSection('ClusterSettings', [
  'peers',
  'peersDns',
  'peersPort',
  'peersRefreshS',
  'clusterKey',
]);
export type ClusterSettings = SettingsOf<typeof CLUSTER_SETTINGS>;

/** `listener`: the nodes found through SC_PEERS_DNS listen on this node's PORT unless SC_PEERS_PORT says else. */
export function readCluster(read: EnvReader, listener: Pick<ListenerSettings, 'port'>): ClusterSettings {
  const peers: string[] = [];
  for (const raw of read.list('SC_PEERS', ',')) {
    const url = httpUrl(raw);
    if (!url || url.pathname !== '/') {
      read.problems.push(
        `SC_PEERS must be comma-separated base URLs of the other nodes (http:// or https://, no path, query or credentials, e.g. http://10.0.0.2:11182), got ${JSON.stringify(raw)}`,
      );
    } else peers.push(url.origin);
  }
  const peersDns = read.string('SC_PEERS_DNS');
  if (peersDns !== undefined && !/^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})$/.test(peersDns)) {
    read.problems.push(
      `SC_PEERS_DNS must be a DNS name (letters, digits, '.' and '-', e.g. sc-spawner-nodes.default.svc.cluster.local), got ${JSON.stringify(peersDns)}`,
    );
  }
  if (peersDns !== undefined && peers.length > 0) {
    read.problems.push('SC_PEERS and SC_PEERS_DNS are both set: set only one');
  }
  const peersPort = read.int('SC_PEERS_PORT', listener.port, 1, 65535);
  const peersRefreshS = read.seconds('SC_PEERS_REFRESH_S', 15, MIN_PERIOD_S);
  const clusterKey = read.string('CLUSTER_KEY');
  if (clusterKey !== undefined && !isUsableApiKey(clusterKey)) {
    read.problems.push(
      `CLUSTER_KEY needs at least ${MIN_API_KEY_LENGTH} characters, printable ASCII and no spaces (it is ${clusterKey.length} characters long)`,
    );
  }
  return { peers, peersDns, peersPort, peersRefreshS, clusterKey };
}

function httpUrl(raw: string): URL | undefined {
  try {
    const url = new URL(raw);
    const ok =
      (url.protocol === 'http:' || url.protocol === 'https:') &&
      !url.search &&
      !url.hash &&
      !url.username &&
      !url.password;
    return ok ? url : undefined;
  } catch {
    return undefined;
  }
}

import { parseTrustProxy } from '../edge-settings';
import type { EnvReader } from '../env-reader';
import { settingsSection, type SettingsOf } from '../settings-section';
import type { TimingSettings } from './timing.section';

/**
 * The network edge: who is trusted as a proxy, spawn tickets, the first-message timeout, the HTTP server's header
 * and request timeouts and the cap on open connections per client.
 */
export const EDGE_SETTINGS = settingsSection('EdgeSettings', [
  'trustProxy',
  'ticketTtlS',
  'firstMessageTimeoutS',
  'headersTimeoutS',
  'requestTimeoutS',
  'maxConnectionsPerClient',
]);
export type EdgeSettings = SettingsOf<typeof EDGE_SETTINGS>;

/** `timing`: the initial-use duration is the first-message timeout's default. */
export function readEdge(read: EnvReader, timing: Pick<TimingSettings, 'initialUseDurationS'>): EdgeSettings {
  const trustProxy = parseTrustProxy(read);
  const ticketTtlS = read.seconds('SC_TICKET_TTL_S', 30);
  const firstMessageTimeoutS = read.seconds('SC_FIRST_MESSAGE_TIMEOUT_S', timing.initialUseDurationS);
  const headersTimeoutS = read.seconds('HEADERS_TIMEOUT_S', 10);
  const requestTimeoutS = read.seconds('REQUEST_TIMEOUT_S', 30);
  if (requestTimeoutS < headersTimeoutS) {
    read.problems.push(
      `REQUEST_TIMEOUT_S (${requestTimeoutS}) must not be shorter than HEADERS_TIMEOUT_S (${headersTimeoutS})`,
    );
  }
  const maxConnectionsPerClient = read.int('MAX_CONNECTIONS_PER_CLIENT', 256, 1, 1_000_000);
  return { trustProxy, ticketTtlS, firstMessageTimeoutS, headersTimeoutS, requestTimeoutS, maxConnectionsPerClient };
}

import type { EnvReader } from '../env-reader';
import { settingsSection, type SettingsOf } from '../settings-section';
import { isOrigin, parseBodyLimit } from '../setting-parsers';

/** The HTTP listener and how its clients reach it: port, host, public names, proxies in front, CORS, bodies. */
export const LISTENER_SETTINGS = settingsSection('ListenerSettings', [
  'port',
  'host',
  'publicHostname',
  'publicEndpoint',
  'publicScheme',
  'corsOrigins',
  'bodyLimitBytes',
]);
export type ListenerSettings = SettingsOf<typeof LISTENER_SETTINGS>;

export function readListener(read: EnvReader): ListenerSettings {
  const port = read.int('PORT', 11182, 0, 65535);
  const host = read.string('HOST') ?? '0.0.0.0';
  const publicHostname = read.string('PUBLIC_HOSTNAME');
  if (publicHostname && !/^[A-Za-z0-9.\-:[\]]+$/.test(publicHostname)) {
    read.problems.push(`PUBLIC_HOSTNAME must be a host name or IP address, got ${JSON.stringify(publicHostname)}`);
  }
  const publicEndpoint = read.oneOf('PUBLIC_ENDPOINT', ['direct', 'proxy'] as const, 'direct')!;
  const publicScheme = read.oneOf('PUBLIC_SCHEME', ['ws', 'wss'] as const, undefined);
  const origins = read.list('CORS_ORIGINS', ',');
  // As browsers send it (https://app.example.com/ would never equal their Origin header).
  const asSent = origins.map((origin) => (isOrigin(origin) ? new URL(origin).origin : origin));
  const corsOrigins = asSent.length === 0 || asSent.includes('*') ? true : asSent;
  const badOrigin = corsOrigins === true ? undefined : corsOrigins.find((o) => !isOrigin(o));
  if (badOrigin) {
    read.problems.push(
      `CORS_ORIGINS must be * or origins such as https://viewer.example.com (scheme://host[:port], no path), got ${JSON.stringify(badOrigin)}`,
    );
  }
  const bodyLimitBytes = parseBodyLimit(read);
  return { port, host, publicHostname, publicEndpoint, publicScheme, corsOrigins, bodyLimitBytes };
}

import type { Env } from './env-reader';
import type { AppConfig, EffectiveSetting } from './app-config.model';

/** Prefixes of the variables that can only be meant for this service: an unknown one is probably a typo. */
const OWN_PREFIXES = ['SC_', 'HOOPS_', 'API_'];
/** Further than this from every known name, a variable is not called a typo of one. */
const MAX_TYPO_DISTANCE = 3;

/** Levenshtein distance (insertions, deletions, substitutions), one row at a time. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length];
}

/** The known name nearest to `name`, if one is close enough to be what was meant. */
export function nearestName(name: string, known: Iterable<string>): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = editDistance(name, candidate);
    if (distance <= MAX_TYPO_DISTANCE && (!best || distance < best.distance)) best = { name: candidate, distance };
  }
  return best?.name;
}

/**
 * One warning per SC_*, HOOPS_* or API_* variable the service does not read (and SC_CHILD_ENV does not pass on),
 * naming the nearest known setting.
 */
export function unknownSettingWarnings(env: Env, known: ReadonlySet<string>, passedOn: readonly string[]): string[] {
  const passed = (name: string): boolean =>
    passedOn.some((entry) => (entry.endsWith('*') ? name.startsWith(entry.slice(0, -1)) : name === entry));
  return Object.keys(env)
    .filter((name) => OWN_PREFIXES.some((prefix) => name.startsWith(prefix)))
    .filter((name) => !known.has(name) && !passed(name))
    .sort()
    .map((name) => {
      const nearest = nearestName(name, known);
      const hint = nearest ? `: did you mean ${nearest}?` : '';
      return `${name} is not a setting of sc-spawner and is ignored${hint}`;
    });
}

/** Linux's ephemeral port range, from the text of /proc/sys/net/ipv4/ip_local_port_range ("32768\t60999"). */
export function parsePortRange(text: string): { low: number; high: number } | undefined {
  const match = /^\s*(\d+)\s+(\d+)\s*$/.exec(text);
  if (!match) return undefined;
  return { low: Number(match[1]), high: Number(match[2]) };
}

/** A warning when the WebSocket ports overlap the ephemeral range (the kernel may hand one to any outgoing socket). */
export function ephemeralOverlapWarning(
  config: Pick<AppConfig, 'portBase' | 'portCount'>,
  range: { low: number; high: number } | undefined,
): string | undefined {
  if (!range) return undefined;
  const last = config.portBase + config.portCount - 1;
  if (last < range.low || config.portBase > range.high) return undefined;
  return (
    `SC_PORT_BASE..+SC_PORT_COUNT (${config.portBase}-${last}) overlaps this machine's ephemeral port range ` +
    `${range.low}-${range.high} (/proc/sys/net/ipv4/ip_local_port_range): outgoing connections may take a ` +
    `server's port; choose ports below ${range.low}`
  );
}

/**
 * A warning when the servers serve wss:// and PUBLIC_HOSTNAME is not set (the HOOPS Server requires publicHostname
 * with any SSL setting): each endpoint then names the host its client asked for, which the certificate must match.
 */
export function tlsHostnameWarning(config: Pick<AppConfig, 'serversUseTls' | 'publicHostname'>): string | undefined {
  if (!config.serversUseTls || config.publicHostname !== undefined) return undefined;
  return (
    'the servers serve wss:// but PUBLIC_HOSTNAME (publicHostname in Config.js) is not set: each endpoint names ' +
    'the host its client asked for, and a viewer can connect only where the certificate names that host'
  );
}

/** The settings as one object for a JSON log line: {NAME: {value, source}}. */
export function settingsObject(
  settings: readonly EffectiveSetting[],
): Record<string, { value?: string; source: string }> {
  return Object.fromEntries(settings.map(({ name, value, source }) => [name, { value, source }]));
}

/** The settings as an aligned table for people (LOG_FORMAT=pretty). */
export function settingsTable(settings: readonly EffectiveSetting[]): string {
  const nameWidth = Math.max(...settings.map((s) => s.name.length));
  const valueWidth = Math.min(60, Math.max(...settings.map((s) => (s.value ?? '-').length)));
  return settings
    .map(({ name, value, source }) => `  ${name.padEnd(nameWidth)}  ${(value ?? '-').padEnd(valueWidth)}  ${source}`)
    .join('\n');
}

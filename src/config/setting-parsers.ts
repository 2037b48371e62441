import { ArgvError, OPTION_SPECS, parseArgv } from '@app/sc-protocol';
import { EnvReader } from './env-reader';

/** The settings that take more than one line to read; each records its problems on the EnvReader. */
export const MANAGED_FLAGS = new Set([
  '--id',
  '--sc-port',
  '--license',
  '--license-file',
  '--liveliness-endpoint',
  '--liveliness-update-frequency',
  '--initial-use-duration',
  '--csr',
  '--ssr',
  '--model-file',
  '--session-token',
  '--model-search-directories',
  '--workspace-dir',
  '--ssr-egl',
  '--ssr-gpu-index',
]);

const BODY_LIMIT_MIN = 1024;
const BODY_LIMIT_MAX = 16 * 1024 * 1024;

/** BODY_LIMIT: bytes, or a number with kb or mb (1024-based). */
export function parseBodyLimit(read: EnvReader): number {
  const raw = read.raw('BODY_LIMIT');
  if (raw === undefined) return 64 * 1024;
  const match = /^(\d+)\s*(b|kb|mb)?$/i.exec(raw);
  const unit = { b: 1, kb: 1024, mb: 1024 * 1024 }[(match?.[2] ?? 'b').toLowerCase() as 'b' | 'kb' | 'mb'];
  const bytes = match ? Number(match[1]) * unit : NaN;
  if (!(bytes >= BODY_LIMIT_MIN && bytes <= BODY_LIMIT_MAX)) {
    read.problems.push(
      `BODY_LIMIT must be a size from 1kb to 16mb (e.g. 65536, 64kb, 1mb), got ${JSON.stringify(raw)}`,
    );
    return 64 * 1024;
  }
  return bytes;
}

/** A node name: what the /n/<name>/ prefix, the balancer's server names and the pod names have in common. */
export const NODE_NAME_PATTERN = /^[a-z0-9-]{1,63}$/;

export function parseNodeName(read: EnvReader, hostName: string): string {
  const given = read.string('NODE_NAME');
  if (given !== undefined) {
    if (!NODE_NAME_PATTERN.test(given)) {
      read.problems.push(
        `NODE_NAME must be 1 to 63 lower-case letters, digits or '-' ([a-z0-9-]{1,63}), got ${JSON.stringify(given)}`,
      );
    }
    return given;
  }
  const host = hostName.toLowerCase();
  if (!NODE_NAME_PATTERN.test(host)) {
    read.problems.push(
      `NODE_NAME is not set and the host name ${JSON.stringify(host)} is not a valid node name ([a-z0-9-]{1,63}): set NODE_NAME`,
    );
  }
  return host;
}

export function parsePublicBaseUrl(read: EnvReader): string | undefined {
  const raw = read.string('PUBLIC_BASE_URL');
  if (raw === undefined) return undefined;
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.search || url.hash || url.username) {
    read.problems.push(
      `PUBLIC_BASE_URL must be an http:// or https:// URL without query, fragment or credentials (e.g. https://viewers.example.com), got ${JSON.stringify(raw)}`,
    );
    return undefined;
  }
  return url.href.replace(/\/+$/, '');
}

/** API keys shorter than this are refused: a key is a secret, not a password someone types. */
export const MIN_API_KEY_LENGTH = 16;

/** The shortest period of a setting that repeats work (a server's report, a DNS lookup), in seconds. */
export const MIN_PERIOD_S = 0.1;

/**
 * Whether a key can be presented at all: long enough, and printable ASCII without spaces. Node.js reads header
 * bytes as Latin-1, so a key with any other character (é in UTF-8) never matches: it is refused at start-up.
 */
export function isUsableApiKey(key: string): boolean {
  return key.length >= MIN_API_KEY_LENGTH && /^[\x21-\x7e]+$/.test(key);
}

export function isOrigin(value: string): boolean {
  try {
    const url = new URL(value);
    // Only the origin, as written in any case, with its default port or a trailing slash: no path, query or user.
    const bare = url.pathname === '/' && !url.search && !url.hash && !url.username && !url.password;
    return (url.protocol === 'http:' || url.protocol === 'https:') && bare && !/[?#]$/.test(value);
  } catch {
    return false;
  }
}

const RATE_UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `30/60s`: 30 requests per 60 seconds (units ms, s, m, h; s when none). `off` or unset: no limit. */
export function parseRateLimit(read: EnvReader): { limit: number; ttlMs: number } | undefined {
  const raw = read.raw('SPAWN_RATE_LIMIT');
  if (raw === undefined || raw.toLowerCase() === 'off') return undefined;
  const match = /^(\d+)\s*\/\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/i.exec(raw);
  const limit = match ? Number(match[1]) : NaN;
  const ttlMs = match ? Number(match[2]) * RATE_UNITS_MS[(match[3] ?? 's').toLowerCase()] : NaN;
  if (!(limit >= 1 && limit <= 1_000_000) || !(ttlMs >= 100 && ttlMs <= 86_400_000)) {
    read.problems.push(
      `SPAWN_RATE_LIMIT must be <requests>/<period> such as 30/60s (period in ms, s, m or h, from 100 ms to 24 h; requests from 1), or off; got ${JSON.stringify(raw)}`,
    );
    return undefined;
  }
  return { limit, ttlMs: Math.round(ttlMs) };
}

export function parseExtraArgs(read: EnvReader): string[] {
  const raw = read.raw('SC_EXTRA_ARGS');
  if (raw === undefined) return [];
  let args: string[];
  if (raw.startsWith('[')) {
    try {
      const parsed: unknown = JSON.parse(raw);
      if (!Array.isArray(parsed) || !parsed.every((a) => typeof a === 'string'))
        throw new Error('not an array of strings');
      args = parsed;
    } catch {
      read.problems.push('SC_EXTRA_ARGS must be space-separated options, or a JSON array of strings');
      return [];
    }
  } else {
    args = raw.split(/\s+/);
  }
  try {
    parseArgv(args);
  } catch (error) {
    const known = OPTION_SPECS.map((s) => s.flag).filter((f) => !MANAGED_FLAGS.has(f));
    read.problems.push(`SC_EXTRA_ARGS: ${(error as ArgvError).message}; allowed options: ${known.join(' ')}`);
    return [];
  }
  const managed = args.map((a) => a.split('=')[0]).find((flag) => MANAGED_FLAGS.has(flag));
  if (managed) read.problems.push(`SC_EXTRA_ARGS may not set ${managed}: the service sets it for each spawn`);
  return args;
}

export const CPU_PRIORITY_CHOICES = ['auto', 'cgroup-v2', 'cgroup-v1', 'autogroup', 'nice', 'none'] as const;
export type CpuPriorityChoice = (typeof CPU_PRIORITY_CHOICES)[number];

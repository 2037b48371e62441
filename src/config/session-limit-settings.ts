import type { AppConfig } from './app-config.model';
import type { EnvReader } from './env-reader';

/** Live sessions allowed per caller (SC_KEY_MAX_SESSIONS): by key name, and `*` for every other caller. */
export interface KeyQuotas {
  perKey: ReadonlyMap<string, number>;
  /** Every other key, and the anonymous callers (one budget per client address); undefined: no cap. */
  others?: number;
}

export const KEY_NAME_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;

/** SC_IDLE_TIMEOUT_S, SC_MAX_SESSION_S, SC_END_WARNING_S and SC_KEY_MAX_SESSIONS. */
export function parseSessionLimits(read: EnvReader, config: AppConfig): void {
  config.idleTimeoutS = secondsOrOff(read, 'SC_IDLE_TIMEOUT_S', 0);
  config.maxSessionS = secondsOrOff(read, 'SC_MAX_SESSION_S', 0);
  config.endWarningS = secondsOrOff(read, 'SC_END_WARNING_S', 60);
  config.keyQuotas = parseKeyQuotas(read);
}

/** A number of seconds, 0 allowed (off). */
function secondsOrOff(read: EnvReader, name: string, fallback: number): number {
  const raw = read.raw(name);
  if (raw === undefined) {
    const entry = read.seen.get(name);
    if (entry && entry.value === undefined) entry.fallback = fallback;
    return fallback;
  }
  const value = /^\d+(\.\d+)?$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isFinite(value) || value > 31_536_000) {
    read.problems.push(
      `${name} must be a number of seconds from 0 (off) to 31536000 (fractions allowed), got ${JSON.stringify(raw)}`,
    );
    return fallback;
  }
  return value;
}

/** `alice=5,bob=20,*=2`: a whole number of live sessions per key name, `*` for every other caller. */
export function parseKeyQuotas(read: EnvReader): KeyQuotas | undefined {
  const raw = read.raw('SC_KEY_MAX_SESSIONS');
  if (raw === undefined) return undefined;
  const perKey = new Map<string, number>();
  let others: number | undefined;
  for (const item of raw.split(',').map((s) => s.trim())) {
    const match = /^([^=\s]+)\s*=\s*(\d+)$/.exec(item);
    const name = match?.[1];
    const count = Number(match?.[2]);
    if (!match || !(name === '*' || KEY_NAME_PATTERN.test(name!)) || !(count >= 1 && count <= 100_000)) {
      read.problems.push(
        `SC_KEY_MAX_SESSIONS must be <key name>=<sessions> pairs separated by commas, such as alice=5,bob=20,*=2 (names of 1 to 32 letters, digits, '_' or '-', or * for every other caller; sessions from 1), got ${JSON.stringify(item)}`,
      );
      return undefined;
    }
    if (name === '*' ? others !== undefined : perKey.has(name!)) {
      read.problems.push(`SC_KEY_MAX_SESSIONS names ${name} twice`);
      return undefined;
    }
    if (name === '*') others = count;
    else perKey.set(name!, count);
  }
  return { perKey, others };
}

/** With an idle timeout and direct endpoints, the operator must know which sessions it can see (none but relayed ones). */
export function idleTimeoutNotice(config: AppConfig): string | undefined {
  if (config.idleTimeoutS <= 0 || config.publicEndpoint === 'proxy') return undefined;
  return `SC_IDLE_TIMEOUT_S=${config.idleTimeoutS} applies only to sessions the relay carries: set PUBLIC_ENDPOINT=proxy (or use spawn on connect); sessions whose viewer connects to the server's own port are not watched (their \`watched\` is false)`;
}

import type { AppConfig, KeyQuotas } from './app-config.model';

export type { KeyQuotas };
import type { EnvReader } from './env-reader';

export const KEY_NAME_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;

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
export function idleTimeoutNotice(config: Pick<AppConfig, 'idleTimeoutS' | 'publicEndpoint'>): string | undefined {
  if (config.idleTimeoutS <= 0 || config.publicEndpoint === 'proxy') return undefined;
  return `SC_IDLE_TIMEOUT_S=${config.idleTimeoutS} applies only to sessions the relay carries: set PUBLIC_ENDPOINT=proxy (or use spawn on connect); sessions whose viewer connects to the server's own port are not watched (their \`watched\` is false)`;
}

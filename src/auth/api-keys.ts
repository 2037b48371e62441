import { createHash, timingSafeEqual } from 'crypto';

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** Named entries: `name=key` when the name is 1 to 32 of [A-Za-z0-9_-] and the key valid (16+ characters, no spaces). */
const NAMED_ENTRY = /^([A-Za-z0-9_-]{1,32})=(\S{16,})$/;

export interface NamedKey {
  name: string;
  key: string;
}

/**
 * API_KEYS / API_KEYS_FILE entries as named keys: `name=key` split at the first `=` when both parts qualify;
 * anything else is a bare key, named key-1, key-2... by its position among the bare keys. `whole` keys (the
 * CLUSTER_KEY, which peers send as it is written) are never split: bare keys after the entries.
 */
export function nameKeys(entries: readonly string[], whole: readonly string[] = []): NamedKey[] {
  let bare = 0;
  const named = entries.map((entry) => {
    const match = NAMED_ENTRY.exec(entry);
    return match ? { name: match[1], key: match[2] } : { name: `key-${++bare}`, key: entry };
  });
  return [...named, ...whole.map((key) => ({ name: `key-${++bare}`, key }))];
}

/**
 * The configured API keys. A candidate is compared with every key, in constant time over SHA-256 digests
 * (fixed length, so neither the key's length nor the first differing byte shows in the timing).
 */
export class ApiKeys {
  private readonly digests: Buffer[];
  private readonly keys: string[];
  private readonly names: string[];
  /** The first key configured: what this node sends its peers when CLUSTER_KEY is not set. */
  readonly first: string | undefined;

  constructor(entries: readonly string[], whole: readonly string[] = []) {
    const named = nameKeys(entries, whole);
    this.first = named[0]?.key;
    // A key listed twice keeps its first name: a CLUSTER_KEY equal to alice's key must not rename alice's sessions
    // (nor lift her SC_KEY_MAX_SESSIONS quota).
    const byKey = new Map<string, NamedKey>();
    for (const entry of named) if (!byKey.has(entry.key)) byKey.set(entry.key, entry);
    const unique = [...byKey.values()].sort((a, b) => b.key.length - a.key.length);
    this.keys = unique.map((n) => n.key);
    this.names = unique.map((n) => n.name);
    this.digests = this.keys.map(digest);
  }

  /** The name of the key presented, or undefined when it is none of them (compared like matches()). */
  nameOf(candidate: string | undefined): string | undefined {
    if (candidate === undefined || !this.enabled) return undefined;
    const presented = digest(candidate);
    let found: string | undefined;
    this.digests.forEach((known, i) => {
      if (timingSafeEqual(presented, known)) found ??= this.names[i];
    });
    return found;
  }

  get enabled(): boolean {
    return this.digests.length > 0;
  }

  get count(): number {
    return this.digests.length;
  }

  matches(candidate: string | undefined): boolean {
    return this.nameOf(candidate) !== undefined;
  }

  /** Masks every key in a text (for the logs). */
  redact(text: string): string {
    let result = text;
    for (const key of this.keys) if (result.includes(key)) result = result.split(key).join('***');
    return result;
  }
}

/** Keys from an API_KEYS_FILE: one a line; blank lines and `#` comments ignored. */
export function parseApiKeysFile(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

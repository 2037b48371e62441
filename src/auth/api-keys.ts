import { createHash, timingSafeEqual } from 'crypto';

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/**
 * The configured API keys. A candidate is compared with every key, in constant time over SHA-256 digests
 * (fixed length, so neither the key's length nor the first differing byte shows in the timing).
 */
export class ApiKeys {
  private readonly digests: Buffer[];
  private readonly keys: string[];
  /** The first key configured: what this node sends its peers when CLUSTER_KEY is not set. */
  readonly first: string | undefined;

  constructor(keys: readonly string[]) {
    this.first = keys[0];
    this.keys = [...new Set(keys)].sort((a, b) => b.length - a.length);
    this.digests = this.keys.map(digest);
  }

  get enabled(): boolean {
    return this.digests.length > 0;
  }

  get count(): number {
    return this.digests.length;
  }

  matches(candidate: string | undefined): boolean {
    if (candidate === undefined || !this.enabled) return false;
    const presented = digest(candidate);
    let found = false;
    for (const known of this.digests) found = timingSafeEqual(presented, known) || found;
    return found;
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

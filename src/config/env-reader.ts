export type Env = Record<string, string | undefined>;

/** The longest delay setTimeout/setInterval honour (2^31-1 ms), in whole seconds: a longer one fires at once. */
export const MAX_TIMER_S = 2_147_483;

/** Reads typed settings from the environment, collecting every problem instead of stopping at the first. */
export class EnvReader {
  readonly problems: string[] = [];
  /** Every setting read, with the value given (undefined: not set) and the default used then, for the start-up report. */
  readonly seen = new Map<string, { value?: string; fallback?: string | number | boolean }>();
  /** Every variable asked for: the service's own settings (none of them is passed on to a server). */
  readonly names = new Set<string>();
  constructor(private readonly env: Env) {}

  raw(name: string): string | undefined {
    this.names.add(name);
    const value = this.env[name];
    const given = value === undefined || value.trim() === '' ? undefined : value.trim();
    if (!this.seen.has(name)) this.seen.set(name, { value: given });
    return given;
  }

  private fallback<T extends string | number | boolean | undefined>(name: string, value: T): T {
    const entry = this.seen.get(name);
    if (entry && entry.value === undefined) entry.fallback = value;
    return value;
  }

  string(name: string): string | undefined {
    return this.raw(name);
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const raw = this.raw(name);
    if (raw === undefined) return this.fallback(name, fallback);
    const value = /^\d+$/.test(raw) ? Number(raw) : NaN;
    if (!(value >= min && value <= max)) {
      this.problems.push(`${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}`);
      return fallback;
    }
    return value;
  }

  /** Seconds, fractions allowed: greater than 0, or at least `min` when given. */
  seconds(name: string, fallback: number, min?: number): number {
    const raw = this.raw(name);
    if (raw === undefined) return this.fallback(name, fallback);
    const value = /^\d+(\.\d+)?$/.test(raw) ? Number(raw) : NaN;
    const inRange = min === undefined ? value > 0 : value >= min;
    if (!inRange || !Number.isFinite(value)) {
      const bound = min === undefined ? 'greater than 0' : `at least ${min}`;
      this.problems.push(
        `${name} must be a number of seconds ${bound} (fractions allowed), got ${JSON.stringify(raw)}`,
      );
      return fallback;
    }
    if (value > MAX_TIMER_S) {
      this.problems.push(
        `${name} must be at most ${MAX_TIMER_S} seconds (24.8 days, the longest timer Node.js keeps), got ${JSON.stringify(raw)}`,
      );
      return fallback;
    }
    return value;
  }

  bool(name: string, fallback: boolean): boolean {
    const raw = this.raw(name)?.toLowerCase();
    if (raw === undefined) return this.fallback(name, fallback);
    if (['true', '1', 'yes', 'on'].includes(raw)) return true;
    if (['false', '0', 'no', 'off'].includes(raw)) return false;
    this.problems.push(`${name} must be true or false, got ${JSON.stringify(this.env[name])}`);
    return fallback;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T | undefined): T | undefined {
    const raw = this.raw(name)?.toLowerCase();
    if (raw === undefined) return this.fallback(name, fallback);
    if ((allowed as readonly string[]).includes(raw)) return raw as T;
    this.problems.push(`${name} must be one of ${allowed.join(', ')}, got ${JSON.stringify(this.env[name])}`);
    return fallback;
  }

  list(name: string, separator: string): string[] {
    return (this.raw(name) ?? '')
      .split(separator)
      .map((s) => s.trim())
      .filter(Boolean);
  }
}

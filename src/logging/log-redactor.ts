/** `access_token=<key>` in a URL or text (the event streams' query key). */
const ACCESS_TOKEN = /(access_token=)[^&\s"']+/gi;

/** Masks secrets in whatever is about to be logged: license key, API keys, access_token values. */
export class LogRedactor {
  constructor(private readonly maskers: ReadonlyArray<(text: string) => string>) {}

  text(value: string): string {
    let result = value.replace(ACCESS_TOKEN, '$1***');
    for (const mask of this.maskers) result = mask(result);
    return result;
  }

  /** A log call's arguments: strings masked, and the string fields of a leading object (msg, detail...). */
  args(args: unknown[]): unknown[] {
    return args.map((arg) => {
      if (typeof arg === 'string') return this.text(arg);
      if (arg === null || typeof arg !== 'object' || arg instanceof Error || Array.isArray(arg)) return arg;
      const copy: Record<string, unknown> = { ...(arg as Record<string, unknown>) };
      for (const [key, value] of Object.entries(copy)) if (typeof value === 'string') copy[key] = this.text(value);
      return copy;
    });
  }
}

import { printable } from './printable';

/** Query parameters whose values are credentials: an API key (event streams) and a spawn ticket. */
const SECRET_PARAMETERS = new Set(['access_token', 'ticket']);
/** A `name=value` pair of a query (or of text shaped like one): at the start, or after ?, &, ; or a space or quote. */
const PARAMETER = /(^|[?&;\s"'])([^=&;\s"'?#]+)=([^&;\s"'#]*)/g;

/** A session's relay link, /ws/<token> (under a node prefix, in an absolute URL): the token lets its holder in. */
const RELAY_LINK = /(\/ws\/)[^/?#\s"']+/gi;

/** A parameter's name as the server would read it: percent-decoded (repeatedly: %255F is %5F is _), `+` a space, any case. */
export function decodedName(name: string): string {
  let current = name;
  for (let round = 0; round < 3; round++) {
    let next: string;
    try {
      next = decodeURIComponent(current.replace(/\+/g, ' '));
    } catch {
      break;
    }
    if (next === current) break;
    current = next;
  }
  return current.trim().toLowerCase();
}

/**
 * Masks secrets in whatever is about to be logged (license key, API keys, access_token and ticket values, relay
 * tokens in /ws/<token>) and
 * escapes control characters a client could send to the log's reader (printable).
 */
export class LogRedactor {
  constructor(private readonly maskers: ReadonlyArray<(text: string) => string>) {}

  text(value: string): string {
    let result = value
      .replace(PARAMETER, (whole, lead: string, name: string) =>
        SECRET_PARAMETERS.has(decodedName(name)) ? `${lead}${name}=***` : whole,
      )
      .replace(RELAY_LINK, '$1***');
    for (const mask of this.maskers) result = mask(result);
    return printable(result);
  }

  /** A value a client chose (a header, the address a trusted proxy passed on) as text(); undefined when none. */
  field(value: string | undefined): string | undefined {
    return value === undefined ? undefined : this.text(value);
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

/** The most of a client's own text (a path, a name) an answer repeats: paths and names of this service fit. */
export const MAX_ECHOED_CHARACTERS = 128;

/**
 * A part of the request as an answer repeats it: whole when it is short, else its start and how long it was.
 * A path may be as long as the request line (~16 KB), and an answer that repeats it (twice, for a 421) would send
 * back more than it was sent.
 */
export function echoed(text: string): string {
  if (text.length <= MAX_ECHOED_CHARACTERS) return text;
  return `${text.slice(0, MAX_ECHOED_CHARACTERS)}… (${text.length} characters)`;
}

/** Nest's answer for a path no route takes (`Cannot GET /path`), with the path cut as `echoed` does. */
export function unroutedMessage(message: string): string {
  const match = /^Cannot ([A-Z]+) (.*)$/s.exec(message);
  return match ? `Cannot ${match[1]} ${echoed(match[2])}` : message;
}

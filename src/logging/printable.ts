/**
 * Control characters a terminal or a line splitter acts on: C0 but tab (and newline, unless a line is meant), DEL,
 * and C1 (U+009B is a CSI, U+0085 a line break to many readers; a header may carry them as obs-text).
 */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;
// eslint-disable-next-line no-control-regex
const CONTROL_OR_NEWLINE = /[\x00-\x08\x0a-\x1f\x7f-\x9f]/g;

const escaped = (c: string): string => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;

/** `text` with its control characters written as \xNN (newlines and tabs kept): a log line's fields. */
export function printable(text: string): string {
  return text.replace(CONTROL, escaped);
}

/**
 * One line of a server's output as plain text for a terminal: escape sequences that move the cursor, recolour or
 * retitle the terminal, a carriage return that overwrites the line, a newline, all written as \xNN; tabs kept.
 */
export function printableLine(line: string): string {
  return line.replace(CONTROL_OR_NEWLINE, escaped);
}

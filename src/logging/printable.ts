/**
 * Control characters a terminal or a line splitter acts on: C0 but tab (and newline, unless a line is meant), DEL,
 * and C1 (U+009B is a CSI, U+0085 a line break to many readers; a header may carry them as obs-text). Also the
 * line and paragraph separators (U+2028, U+2029: a mandatory break where a browser-based log viewer shows the line)
 * and the bidirectional controls (U+061C, U+200E-F, U+202A-E, U+2066-9), which make such a viewer show a line's
 * text in another order than it was written; a server may echo them from what a viewer sends it.
 */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;
// eslint-disable-next-line no-control-regex
const CONTROL_OR_NEWLINE = /[\x00-\x08\x0a-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

const escaped = (c: string): string => {
  const code = c.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
};

/** `text` with its control characters written as \xNN or \uNNNN (newlines and tabs kept): a log line's fields. */
export function printable(text: string): string {
  return text.replace(CONTROL, escaped);
}

/**
 * One line of a server's output as plain text for a terminal: escape sequences that move the cursor, recolour or
 * retitle the terminal, a carriage return that overwrites the line, a newline, all written as \xNN (the separators
 * and bidirectional controls as \uNNNN); tabs kept.
 */
export function printableLine(line: string): string {
  return line.replace(CONTROL_OR_NEWLINE, escaped);
}

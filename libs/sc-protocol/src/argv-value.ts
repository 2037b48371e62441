/**
 * The one rule for a value the service puts on a server's command line as its own item (a session token, a
 * model name, a model folder, a license key...): it must not read as an option, nor carry a NUL or a line break
 * (which would cut or split it on the way), and it has a bounded length. The APIs check client values with it
 * (each with its own, smaller limit), and toArgv() checks every value again as a last line of defence.
 */
export const MAX_ARGV_VALUE_LENGTH = 4096;

export const ARGV_VALUE_RULE = "not starting with '-', without NUL or line breaks";

/** What is wrong with `value` as one command-line value, in words that follow its name; undefined when nothing. */
export function argvValueProblem(value: string, maxLength: number = MAX_ARGV_VALUE_LENGTH): string | undefined {
  if (value.length > maxLength) return `is longer than ${maxLength} characters`;
  if (value.startsWith('-')) return "starts with '-' (it would read as an option)";
  if (/[\0\r\n]/.test(value)) return 'contains a NUL or a line break';
  return undefined;
}

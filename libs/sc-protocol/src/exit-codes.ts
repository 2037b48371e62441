/** Exit codes of ts3d_sc_server and what they mean. */
export const SC_EXIT_CODES = {
  SUCCESS: 0,
  UNEXPECTED_EXIT: 1,
  INVALID_ARGUMENT: 2,
  INTERNAL_ERROR: 3,
  STREAM_CACHE_INIT_FAILED: 4,
  HTTP_CLIENT_INIT_FAILED: 5,
  INVALID_LICENSE: 6,
  INVALID_LICENSE_FILE: 7,
} as const;

const EXIT_MEANINGS: Readonly<Record<number, string>> = {
  0: 'success (normal shutdown)',
  1: 'unexpected exit',
  2: 'invalid command line argument',
  3: 'internal error',
  4: 'failed to initialize the stream cache',
  5: 'failed to initialize the HTTP client library',
  6: 'invalid license',
  7: 'invalid license file',
};

export function exitCodeMeaning(code: number): string {
  return EXIT_MEANINGS[code] ?? 'unknown';
}

/** Human description of how a process ended, e.g. "exit code 6 (invalid license)" or "killed by signal SIGKILL". */
export function describeExit(code: number | null, signal: string | null): string {
  if (code !== null && code !== undefined) return `exit code ${code} (${exitCodeMeaning(code)})`;
  if (signal) return `killed by signal ${signal}`;
  return 'ended for an unknown reason';
}

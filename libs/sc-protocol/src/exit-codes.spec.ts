import { SC_EXIT_CODES, describeExit, exitCodeMeaning } from './exit-codes';

describe('exit codes', () => {
  it.each([
    [0, 'SUCCESS', 'success (normal shutdown)'],
    [1, 'UNEXPECTED_EXIT', 'unexpected exit'],
    [2, 'INVALID_ARGUMENT', 'invalid command line argument'],
    [3, 'INTERNAL_ERROR', 'internal error'],
    [4, 'STREAM_CACHE_INIT_FAILED', 'failed to initialize the stream cache'],
    [5, 'HTTP_CLIENT_INIT_FAILED', 'failed to initialize the HTTP client library'],
    [6, 'INVALID_LICENSE', 'invalid license'],
    [7, 'INVALID_LICENSE_FILE', 'invalid license file'],
  ] as const)('%i is %s: %s', (code, name, meaning) => {
    expect(SC_EXIT_CODES[name]).toBe(code);
    expect(exitCodeMeaning(code)).toBe(meaning);
    expect(describeExit(code, null)).toBe(`exit code ${code} (${meaning})`);
  });

  it('has exactly the documented codes', () => {
    expect(Object.values(SC_EXIT_CODES).sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it.each([8, 9, 42, 127, 255, -1])('calls %i unknown', (code) => {
    expect(exitCodeMeaning(code)).toBe('unknown');
    expect(describeExit(code, null)).toBe(`exit code ${code} (unknown)`);
  });

  it('describes a death by signal', () => {
    expect(describeExit(null, 'SIGKILL')).toBe('killed by signal SIGKILL');
    expect(describeExit(null, 'SIGTERM')).toBe('killed by signal SIGTERM');
  });

  it('prefers the exit code when both are given, and copes with neither', () => {
    expect(describeExit(0, 'SIGTERM')).toBe('exit code 0 (success (normal shutdown))');
    expect(describeExit(null, null)).toBe('ended for an unknown reason');
  });
});

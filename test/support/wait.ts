/** Polling helpers for tests: wait for a condition instead of sleeping a fixed time. */

export interface WaitForOptions {
  /** How often to poll, in ms (default 10). */
  intervalMs?: number;
  /** Says what was awaited, for the timeout error (a function is called at timeout, to show the latest state). */
  description?: string | (() => string);
}

/**
 * Calls `fn` until it returns something other than undefined, null or false (and does not throw),
 * then resolves with that value. Rejects after timeoutMs with the description and the last error thrown.
 * `fn` may be async; a slow call is awaited before polling again.
 */
export async function waitFor<T>(
  fn: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  timeoutMs = 5000,
  options: WaitForOptions = {},
): Promise<T> {
  const { intervalMs = 10, description = 'condition' } = options;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value !== undefined && value !== null && value !== false) return value;
      lastError = undefined;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const cause = lastError instanceof Error ? `: last error: ${lastError.message}` : '';
      const what = typeof description === 'function' ? description() : description;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${cause}`);
    }
    await sleep(Math.min(intervalMs, Math.max(0, deadline - Date.now())));
  }
}

/** A plain delay. Prefer waitFor; use this only to let time pass when asserting that something does NOT happen. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves with the promise's value, or rejects if it takes longer than timeoutMs. Clears its timer either way. */
export async function withTimeout<T>(promise: Promise<T>, timeoutMs: number, description = 'operation'): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${description}`)),
          timeoutMs,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

import type { Response } from 'express';

/**
 * Aborts when the client disconnects before the response has reached it, so its spawn is stopped rather than
 * orphaned. Reached: written out (finished), not merely ended: an answer written to a client that had already reset
 * its connection fails, and a session it named would otherwise be nobody's.
 */
export function abortOnClientGone(response: Response): AbortSignal {
  const controller = new AbortController();
  const gone = () => {
    if (!response.writableFinished) controller.abort();
  };
  // The client may already have left while the body was parsed or checked: 'close' would not come again.
  if (response.destroyed || response.socket?.destroyed !== false) gone();
  else response.on('close', gone);
  return controller.signal;
}

/** Runs `act` once the answer is lost (the signal of abortOnClientGone aborts), at once when it is already. */
export function whenAnswerLost(signal: AbortSignal, act: () => void): void {
  if (signal.aborted) act();
  else signal.addEventListener('abort', act, { once: true });
}

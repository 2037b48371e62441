import type { Response } from 'express';

/** Aborts when the client disconnects before the response is sent, so its spawn is stopped rather than orphaned. */
export function abortOnClientGone(response: Response): AbortSignal {
  const controller = new AbortController();
  const gone = () => {
    if (!response.writableEnded) controller.abort();
  };
  // The client may already have left while the body was parsed or checked: 'close' would not come again.
  if (response.destroyed || response.socket?.destroyed !== false) gone();
  else response.on('close', gone);
  return controller.signal;
}

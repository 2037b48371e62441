import type { NextFunction, Request, Response } from 'express';
import { matchNodePrefix, misdirectedReason, originForm } from './node-prefix';

/** The HOOPS spawning routes answer errors as `{status: "failed", reason}`; a misdirected request there too. */
const HOOPS_SPAWN_PATHS = new Set(['/api/spawn', '/service']);

/**
 * Serves the whole API also under `/n/<nodeName>/` by removing the prefix before Nest's router sees the
 * request; a request under another node's prefix gets 421 Misdirected Request naming both nodes.
 * `/n/<nodeName>` without its slash is redirected (GET/HEAD), so the dashboard's relative links resolve.
 */
export function nodePrefixMiddleware(nodeName: string) {
  return (request: Request, response: Response, next: NextFunction): void => {
    // An absolute-form target (GET http://host/n/<name>/...) is read as its path, as Express's router reads it.
    const match = matchNodePrefix(originForm(request.url), nodeName);
    if (match.kind === 'none') return next();
    if (match.kind === 'local') {
      if (match.bare && (request.method === 'GET' || request.method === 'HEAD')) {
        // Relative (to /n/): behind a balancer that strips a path prefix, the browser keeps that prefix.
        response.redirect(308, `${nodeName}/${match.url.slice(1)}`);
        return;
      }
      request.url = match.url;
      return next();
    }
    const reason = misdirectedReason(nodeName, match.node);
    response.status(421);
    if (HOOPS_SPAWN_PATHS.has(match.path.replace(/\/+$/, ''))) response.json({ status: 'failed', reason });
    else response.json({ statusCode: 421, error: 'Misdirected Request', message: reason });
  };
}

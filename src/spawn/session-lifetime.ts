import { ClientError } from '../http';

/**
 * The 400 for a session lifetime asked for above the node's own limit (SC_MAX_SESSION_S, 0: none), by POST /spawn and
 * POST /tickets alike; undefined when it fits.
 */
export function lifetimeAboveNodeLimit(maxSessionS: number | undefined, nodeLimitS: number): ClientError | undefined {
  if (maxSessionS === undefined || nodeLimitS <= 0 || maxSessionS <= nodeLimitS) return undefined;
  return new ClientError(
    400,
    `maxSessionSeconds (${maxSessionS}) is above this node's lifetime limit SC_MAX_SESSION_S (${nodeLimitS} s): ask for ${nodeLimitS} or less`,
  );
}

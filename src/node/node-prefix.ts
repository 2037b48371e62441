import { echoed } from '../http';

/** Where a request path stands with respect to the node prefix `/n/<name>/`. */
export type NodePrefixMatch =
  /** Not under /n/<name>: served as it is. */
  | { kind: 'none' }
  /** Under this node's prefix: `url` is the same request without it (always starting with '/'). */
  | { kind: 'local'; url: string; bare: boolean }
  /** Under another node's prefix: the balancer sent it to the wrong node. */
  | { kind: 'other'; node: string; path: string };

/**
 * A request target in origin form (`/path?query`). HTTP/1.1 servers must also accept the absolute form
 * (`GET http://host/ws/<token>`, RFC 9112 §3.2.2), as Express's router does; the node prefix and the WebSocket
 * proxy read it without its scheme and host.
 */
export function originForm(url: string | undefined): string | undefined {
  const rest = url === undefined ? undefined : /^[a-z][a-z0-9+.-]*:\/\/[^/?]*(.*)$/i.exec(url)?.[1];
  if (rest === undefined) return url;
  return rest.startsWith('/') ? rest : `/${rest}`;
}

const PREFIXED = /^\/n\/([^/?#]+)(\/[^?#]*)?([?#].*)?$/;

/**
 * The one reading of the node prefix, shared by the HTTP middleware and the WebSocket proxy:
 * `/n/node-a/spawns/1?x` on node-a is `/spawns/1?x`; on node-b it is another node's. `bare` is true for
 * `/n/node-a` with no slash after the name (a page there would resolve its relative links against /n/).
 */
export function matchNodePrefix(url: string | undefined, nodeName: string): NodePrefixMatch {
  const match = url ? PREFIXED.exec(url) : null;
  if (!match) return { kind: 'none' };
  const [, name, rest, query = ''] = match;
  if (name !== nodeName) return { kind: 'other', node: name, path: rest ?? '/' };
  return { kind: 'local', url: `${rest ?? '/'}${query}`, bare: rest === undefined };
}

/** The 421 reason for a request meant for another node. */
export function misdirectedReason(thisNode: string, requestedNode: string): string {
  const shown = echoed(requestedNode);
  return (
    `this is node ${JSON.stringify(thisNode)}, but the request is for node ${JSON.stringify(shown)} ` +
    `(/n/${shown}/...): the load balancer routed it to the wrong node`
  );
}

import type { RendererType } from '@app/sc-protocol';
import type { RenderingSettings } from '../config';
import { ClientError } from '../http';
import { type NoCapacityError, RendererDisabledError } from '../supervisor';

/**
 * Why a ticket for `rendererType` could never be used on this node, or undefined. A ticket is redeemed only by
 * spawn on connect, only for a renderer that is on, and only by a node that still takes sessions: said at
 * POST /tickets, as POST /spawn says it, rather than to the viewer at its upgrade (a 404, 403 or 503 its page cannot
 * explain). `nodeRefusal`: what every spawn request would get now (refusalForEveryRequest).
 */
export function unusableTicket(
  rendererType: RendererType,
  rendering: Pick<RenderingSettings, 'spawnOnConnect' | 'csrEnabled' | 'ssrEnabled'>,
  nodeRefusal?: NoCapacityError,
): Error | undefined {
  if (!rendering.spawnOnConnect) {
    return new ClientError(
      403,
      'spawn tickets open viewers by spawn on connect, which is off on this node (SPAWN_ON_CONNECT=false): use POST /spawn',
    );
  }
  const enabled = rendererType === 'ssr' ? rendering.ssrEnabled : rendering.csrEnabled;
  if (!enabled) return new RendererDisabledError(rendererType);
  // A full node may free a slot within the ticket's life (its viewer is refused at the door, the ticket kept); a
  // draining or stopping node never takes the session, and the ticket is good on this node only.
  return nodeRefusal?.reason === 'slots' ? undefined : nodeRefusal;
}

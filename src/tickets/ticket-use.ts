import type { RendererType } from '@app/sc-protocol';
import type { RenderingSettings } from '../config';
import { ClientError } from '../http';
import { RendererDisabledError } from '../supervisor';

/**
 * Why a ticket for `rendererType` could never be used on this node, or undefined. A ticket is redeemed only by
 * spawn on connect, and only for a renderer that is on: said at POST /tickets, as POST /spawn says it, rather
 * than to the viewer at its upgrade (a 404 or 403 its page cannot explain).
 */
export function unusableTicket(
  rendererType: RendererType,
  rendering: Pick<RenderingSettings, 'spawnOnConnect' | 'csrEnabled' | 'ssrEnabled'>,
): Error | undefined {
  if (!rendering.spawnOnConnect) {
    return new ClientError(
      403,
      'spawn tickets open viewers by spawn on connect, which is off on this node (SPAWN_ON_CONNECT=false): use POST /spawn',
    );
  }
  const enabled = rendererType === 'ssr' ? rendering.ssrEnabled : rendering.csrEnabled;
  return enabled ? undefined : new RendererDisabledError(rendererType);
}

import type { RendererType } from '@app/sc-protocol';
import { rejectionReasonOf, toHttpErrorView } from '../http';
import { NoCapacityError } from '../supervisor';
import type { ConnectRefusal } from './connect-refusals';

/**
 * A WebSocket upgrade that asks for a new session (the HOOPS Server's proxy mode): any path outside `/ws`,
 * e.g. `/?renderingLocation=ssr`. `renderingLocation=ssr` means SSR; anything else (or nothing) means CSR,
 * as the HOOPS Server reads it. Null for `/ws` and `/ws/...`: those belong to the relay of existing sessions.
 */
export function spawnOnConnectRequest(url: string | undefined): { rendererType: RendererType } | null {
  const target = url ?? '/';
  const path = target.split('?', 1)[0];
  if (path === '/ws' || path.startsWith('/ws/')) return null;
  const query = target.includes('?') ? target.slice(target.indexOf('?') + 1) : '';
  const location = new URLSearchParams(query).get('renderingLocation');
  return { rendererType: location?.trim().toLowerCase() === 'ssr' ? 'ssr' : 'csr' };
}

/**
 * How a failed spawn on connect is answered before the upgrade, with the HOOPS Server's statuses (a failed start is
 * 500), and counted as POST /spawn's refusals are.
 */
export function connectRefusal(error: unknown): ConnectRefusal {
  const view = toHttpErrorView(error);
  const headers: Record<string, string> = {};
  if (view.retryAfterS !== undefined) headers['Retry-After'] = String(view.retryAfterS);
  return {
    status: view.status === 502 ? 500 : view.status,
    message: view.message,
    headers,
    reason: rejectionReasonOf(error, view.status),
    stormKey: error instanceof NoCapacityError ? error.reason : undefined,
  };
}

/** A spawn on connect once the service is shutting down: refused as POST /spawn is then (503, Retry-After). */
export function shuttingDownRefusal(): ConnectRefusal {
  return connectRefusal(NoCapacityError.shuttingDown());
}

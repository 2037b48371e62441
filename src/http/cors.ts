import type { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Request, Response } from 'express';
import { isIP } from 'net';
import type { ListenerSettings } from '../config';

const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Whether a browser page from `origin` may use this service (CORS_ORIGINS; `*` allows any). */
export function isAllowedOrigin(origin: string, allowed: string[] | true): boolean {
  return allowed === true || allowed.includes(origin);
}

/**
 * The service's own origin as the browser saw it (a page it served itself is always allowed): the `Host` the
 * request was sent to, under a name that is surely this service's (see isOwnHostName). Shared by the HTTP routes
 * and the WebSocket upgrades, so the dashboard's own viewer is let in wherever its requests are.
 */
export function isOwnPageOrigin(origin: string, host: string | undefined, ownNames: ReadonlySet<string>): boolean {
  try {
    const url = new URL(origin);
    return url.host === host && isOwnHostName(url.hostname, ownNames);
  } catch {
    return false;
  }
}

/**
 * Whether a host name names this service for sure: an IP address or localhost (no DNS), or a name it was given
 * (PUBLIC_HOSTNAME, PUBLIC_BASE_URL, CORS_ORIGINS). Any other name may resolve here by DNS rebinding: a page of
 * evil.example, its name then made to resolve to this node, sends Origin and Host that agree.
 */
export function isOwnHostName(hostname: string, ownNames: ReadonlySet<string>): boolean {
  const name = bareHostName(hostname);
  return isIP(name) !== 0 || name === 'localhost' || ownNames.has(name);
}

/** The host names the service was given (PUBLIC_HOSTNAME, and those of PUBLIC_BASE_URL and CORS_ORIGINS). */
export function ownHostNames(publicHostname: string | undefined, urls: Array<string | undefined>): Set<string> {
  const hostOf = (url: string | undefined) => (URL.canParse(url ?? '') ? new URL(url!).hostname : undefined);
  const names = [publicHostname, ...urls.map(hostOf)].filter((name): name is string => name !== undefined);
  return new Set(names.map(bareHostName));
}

/** The names a page of this service may be served under, from the settings (see ownHostNames). */
export function ownHostNamesOf(
  config: Pick<ListenerSettings, 'corsOrigins' | 'publicHostname'>,
  publicBaseUrl: string | undefined,
): Set<string> {
  const listed = config.corsOrigins === true ? [] : config.corsOrigins;
  return ownHostNames(config.publicHostname, [publicBaseUrl, ...listed]);
}

/** Lower case, an IPv6 address without its brackets. */
function bareHostName(hostname: string): string {
  return hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1');
}

/**
 * CORS_ORIGINS on every route. A listed origin gets the CORS headers; any other gets none, and besides:
 * - its preflight is answered without them (204, no Access-Control-Allow-*), so the browser sends nothing;
 * - a state-changing request it sends without a preflight (a "simple" POST, text/plain or a form) is refused
 *   with 403 before it reaches a route, so a foreign page cannot start or stop sessions blind.
 * Requests without Origin (curl, servers, HOOPS clients outside a browser) and same-origin pages are not affected.
 * It does not stop a page that DNS rebinding made same-origin from reading GET answers (browsers send no Origin
 * there): only API keys do.
 */
export function useCors(
  app: INestApplication,
  config: Pick<ListenerSettings, 'corsOrigins' | 'publicHostname'>,
  publicBaseUrl: string | undefined,
): void {
  const allowed = config.corsOrigins;
  const ownNames = ownHostNamesOf(config, publicBaseUrl);
  if (allowed !== true) {
    (app as NestExpressApplication).use((request: Request, response: Response, next: NextFunction) => {
      const origin = request.headers.origin;
      if (!origin || isAllowedOrigin(origin, allowed) || isOwnPageOrigin(origin, request.headers.host, ownNames))
        return next();
      if (request.method === 'OPTIONS' && request.headers['access-control-request-method'] !== undefined) {
        // Answered, without CORS headers: the browser then sends nothing.
        response.setHeader('Vary', 'Origin');
        response.status(204).end();
        return;
      }
      if (!UNSAFE_METHODS.has(request.method)) return next();
      response.status(403).json({
        statusCode: 403,
        error: 'Forbidden',
        message: `origin ${origin} is not in CORS_ORIGINS`,
      });
    });
  }
  app.enableCors({
    origin: (origin: string | undefined, callback: (error: Error | null, allow?: boolean) => void) =>
      callback(null, origin === undefined || isAllowedOrigin(origin, allowed)),
    methods: ['GET', 'POST', 'DELETE', 'OPTIONS'],
    optionsSuccessStatus: 204,
    // Request headers are not listed, so preflights reflect whatever the client asks for (legacy clients send Access-Control-* names).
    exposedHeaders: ['Retry-After', 'X-Request-Id'],
    maxAge: 600,
  });
}

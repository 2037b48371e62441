import type { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Request, Response } from 'express';
import type { ListenerSettings } from '../config';

const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Whether a browser page from `origin` may use this service (CORS_ORIGINS; `*` allows any). */
export function isAllowedOrigin(origin: string, allowed: string[] | true): boolean {
  return allowed === true || allowed.includes(origin);
}

/** The service's own origin as the browser saw it (a page it served itself is always allowed). */
function isSameOrigin(request: Request, origin: string): boolean {
  try {
    return new URL(origin).host === request.headers.host;
  } catch {
    return false;
  }
}

/**
 * CORS_ORIGINS on every route. A listed origin gets the CORS headers; any other gets none, and besides:
 * - its preflight is answered without them (204, no Access-Control-Allow-*), so the browser sends nothing;
 * - a state-changing request it sends without a preflight (a "simple" POST, text/plain or a form) is refused
 *   with 403 before it reaches a route, so a foreign page cannot start or stop sessions blind.
 * Requests without Origin (curl, servers, HOOPS clients outside a browser) and same-origin pages are not affected.
 */
export function useCors(app: INestApplication, config: Pick<ListenerSettings, 'corsOrigins'>): void {
  const allowed = config.corsOrigins;
  if (allowed !== true) {
    (app as NestExpressApplication).use((request: Request, response: Response, next: NextFunction) => {
      const origin = request.headers.origin;
      if (!origin || isAllowedOrigin(origin, allowed) || isSameOrigin(request, origin)) return next();
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

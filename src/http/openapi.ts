import type { INestApplication } from '@nestjs/common';
import { DiscoveryService, Reflector } from '@nestjs/core';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import type { Response } from 'express';
import { dump } from 'js-yaml';
import { needsKey, ROUTE_ACCESS, type RouteAccess } from '../auth';
import { ACCESS_SETTINGS, type AccessSettings } from '../config';
import { refineOpenApiDocument } from './openapi-examples';

export const BEARER_SCHEME = 'bearer';

/** The Retry-After header of a 429 or 503, for @Api...Response({ headers }). */
export const RETRY_AFTER_HEADER = {
  'Retry-After': { description: 'Seconds to wait before trying again', schema: { type: 'integer', example: 5 } },
};

const WS_PROXY_PATH = {
  get: {
    tags: ['proxy'],
    operationId: 'WsProxy_connect',
    summary: "WebSocket: the session's Stream Cache Server through this service's port (Upgrade: websocket)",
    description:
      "Send a WebSocket handshake; frames are relayed unchanged both ways. No API key: the session's relay token " +
      '(the last part of its `proxyEndpoint`, given to whoever spawned it) is the capability, since viewers send ' +
      'no credentials; its spawn id opens nothing here. One viewer per session. A viewer that cannot be served ' +
      'gets a plain HTTP status instead of a WebSocket.',
    parameters: [
      {
        name: 'token',
        in: 'path',
        required: true,
        description: "The session's relay token, from its `proxyEndpoint` (never its spawn id)",
        schema: { type: 'string' },
      },
    ],
    responses: {
      '101': { description: "Switching Protocols: the server accepted the viewer's handshake" },
      '400': {
        description:
          'Not a valid WebSocket handshake: no Host header, HTTP/1.0, or a missing or invalid ' +
          'Sec-WebSocket-Key, Sec-WebSocket-Version or Sec-WebSocket-Protocol',
      },
      '403': { description: 'A browser page from an origin CORS_ORIGINS does not list' },
      '404': { description: 'No live session has this relay token (a wrong link, or the session has ended)' },
      '409': { description: 'A viewer is already attached to this session' },
      '502': { description: 'The server refused the handshake or could not be reached' },
      '503': { description: 'The service is shutting down' },
      '504': { description: 'The server did not complete the handshake in time' },
    },
  },
};

/** Which controller method each operation is (Nest's default operationId is `<Controller>_<method>`) and its access. */
function accessByOperationId(app: INestApplication): Map<string, RouteAccess | undefined> {
  const reflector = app.get(Reflector);
  const result = new Map<string, RouteAccess | undefined>();
  for (const wrapper of app.get(DiscoveryService).getControllers()) {
    const type = wrapper.metatype as (new (...args: unknown[]) => unknown) | undefined;
    if (!type) continue;
    const prototype = type.prototype as Record<string, unknown>;
    for (const name of Object.getOwnPropertyNames(prototype)) {
      const handler = prototype[name];
      if (name === 'constructor' || typeof handler !== 'function') continue;
      const targets = [handler as (...args: unknown[]) => unknown, type];
      result.set(`${type.name}_${name}`, reflector.getAllAndOverride<RouteAccess | undefined>(ROUTE_ACCESS, targets));
    }
  }
  return result;
}

/**
 * The OpenAPI document: every route with its access (the bearer scheme on each route that needs a key, from the
 * same markers the guard reads, so document and guard cannot disagree), 401s documented, and the WebSocket proxy.
 */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = app.get<AccessSettings>(ACCESS_SETTINGS.token);
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('sc-spawner')
      .setDescription(
        'Starts a HOOPS Stream Cache Server (ts3d_sc_server) per viewing session, waits until it is ready, and supervises it. ' +
          'Also serves the HOOPS Server spawning API (/api/spawn, /service) for existing viewer applications.\n\n' +
          'Access: when API_KEYS (or API_KEYS_FILE) is set, the operations marked with the bearer scheme need ' +
          '`Authorization: Bearer <key>`; the event streams also take `?access_token=<key>` (EventSource sends no ' +
          'headers). Spawn routes need a key only with SPAWN_AUTH=required, /metrics unless METRICS_PUBLIC=true. ' +
          'Health, liveliness (from this machine only), the dashboard page and this document are open.\n\n' +
          'WebSocket upgrades (spawn on connect at `/?renderingLocation=csr|ssr`, and `/ws/{token}`) are answered 403 ' +
          'when a browser Origin is not in CORS_ORIGINS. A spawn on connect shares the client SPAWN_RATE_LIMIT budget ' +
          'with POST /spawn, and under SPAWN_AUTH=required needs `?ticket=` from POST /tickets (single use, ' +
          'SC_TICKET_TTL_S) or an Authorization header; a viewer that sends no message within ' +
          'SC_FIRST_MESSAGE_TIMEOUT_S is closed with 4004.',
      )
      .setVersion('0.1.0')
      .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'One of API_KEYS' }, BEARER_SCHEME)
      .build(),
  );
  const access = accessByOperationId(app);
  for (const item of Object.values(document.paths)) {
    for (const operation of Object.values(item)) {
      if (!operation || typeof operation !== 'object' || !('responses' in operation)) continue;
      const op = operation as { operationId?: string; security?: unknown; responses: Record<string, unknown> };
      // A route with several paths gets `<Controller>_<method>[<n>]`.
      const id = op.operationId?.replace(/\[\d+\]$/, '');
      if (!id || !access.has(id)) continue;
      if (!needsKey(access.get(id), config)) {
        op.security = [];
        continue;
      }
      op.security = [{ [BEARER_SCHEME]: [] }];
      op.responses['401'] ??= {
        description: 'No valid API key (when API_KEYS is set)',
        headers: { 'WWW-Authenticate': { schema: { type: 'string', example: 'Bearer realm="sc-spawner"' } } },
        content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorResponseDto' } } },
      };
    }
  }
  refineOpenApiDocument(document);
  document.paths['/ws/{token}'] = WS_PROXY_PATH as OpenAPIObject['paths'][string];
  return document;
}

/**
 * Swagger UI at /docs, and the document at /docs-json and /docs-yaml as text made once: Swagger's own routes
 * serialize the document again for every request (YAML: 4.7 ms of the event loop), on routes that need no key.
 */
export function serveOpenApi(app: INestApplication, document: OpenAPIObject): void {
  // Its "Try it out" sends what the page's user types, with the key they authorised it with: no other site may show
  // it in a frame and have them click there (clickjacking). The dashboard's CSP says the same.
  app.use('/docs', (_request: unknown, response: Response, next: () => void) => {
    response.setHeader('Content-Security-Policy', "frame-ancestors 'none'");
    response.setHeader('X-Frame-Options', 'DENY');
    next();
  });
  SwaggerModule.setup('docs', app, document, { raw: false });
  const json = JSON.stringify(document);
  let yaml: string | undefined;
  const adapter = app.getHttpAdapter();
  adapter.get('/docs-json', (_request: unknown, response: Response) => response.type('application/json').send(json));
  adapter.get('/docs-yaml', (_request: unknown, response: Response) => {
    yaml ??= dump(document, { skipInvalid: true, noRefs: true });
    response.type('text/yaml').send(yaml);
  });
}

import type { INestApplication } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import type { IncomingMessage, Server } from 'http';
import type { Duplex } from 'stream';
import { echoed } from './echoed-text';
import { refuseUpgrade } from './http-refusal';

/** A route as the HTTP server knows it: its path pattern and the methods it answers (HEAD with GET). */
export interface RegisteredRoute {
  path: string;
  methods: string[];
}

/** The part of Express's router this reads: its route layers, matched with the router's own matcher. */
interface RouteLayer {
  route?: { path: string | string[]; methods: Record<string, boolean | undefined> };
  match(path: string): unknown;
}

/** A path no route of this service has: a layer that matches it matches every path. */
const UNROUTED_PATH = '/~catch-all-probe/0/1/2';

/**
 * The router's route layers, less the catch-alls: middleware mounted as a route on every path (nestjs-pino's
 * access log, `{/*splat}` in nestjs-pino 5, `{*path}` before). They are found by what they match, not by
 * their pattern's spelling, which changes between versions.
 */
function routeLayers(app: INestApplication): RouteLayer[] {
  const express = app.getHttpAdapter().getInstance() as { router?: { stack: RouteLayer[] } };
  return (express.router?.stack ?? []).filter((layer) => layer.route !== undefined && !layer.match(UNROUTED_PATH));
}

function methodsOf(layer: RouteLayer): string[] {
  const methods = Object.keys(layer.route!.methods)
    .filter((method) => layer.route!.methods[method])
    .map((method) => (method === '_all' ? '*' : method.toUpperCase()));
  if (methods.includes('GET') && !methods.includes('HEAD')) methods.push('HEAD');
  return methods;
}

/** Every route registered (by Nest, Swagger...), read from the router once the application is initialised. */
export function registeredRoutes(app: INestApplication): RegisteredRoute[] {
  return routeLayers(app).flatMap((layer) => {
    const paths = Array.isArray(layer.route!.path) ? layer.route!.path : [layer.route!.path];
    return paths.map((path) => ({ path, methods: methodsOf(layer) }));
  });
}

/**
 * Answers 405 with `Allow` when a request's path is a known route but its method is not one that route
 * answers (PUT /spawn, DELETE /health...). The routes are the ones registered with the router, read at the
 * first request (Nest registers them when the application starts), so new routes are covered by themselves.
 * OPTIONS goes on to CORS; an unknown path goes on to the 404.
 */
export function refuseUnknownMethods(app: INestApplication): void {
  let layers: RouteLayer[] | undefined;
  app.use((request: Request, response: Response, next: NextFunction) => {
    if (request.method === 'OPTIONS') return next();
    layers ??= routeLayers(app);
    const allowed = new Set<string>();
    for (const layer of layers) {
      let matches: unknown;
      try {
        matches = layer.match(request.path);
      } catch {
        return next(); // a path the router cannot decode: it answers that itself (400)
      }
      if (matches) for (const method of methodsOf(layer)) allowed.add(method);
    }
    if (allowed.size === 0 || allowed.has(request.method) || allowed.has('*')) return next();
    const allow = [...allowed, 'OPTIONS'].join(', ');
    response.setHeader('Allow', allow);
    response.status(405).json({
      statusCode: 405,
      message: `${request.method} is not allowed on ${echoed(request.path)}; allowed: ${allow}`,
      error: 'Method Not Allowed',
    });
  });
}

/**
 * CONNECT (a request to open a tunnel through a proxy) is answered 405 and the connection closed: without a
 * listener Node drops such a connection without a word, and no client learns why.
 */
export function refuseConnectRequests(server: Server): void {
  server.on('connect', (_request: IncomingMessage, socket: Duplex) => {
    socket.on('error', () => undefined);
    refuseUpgrade(socket, 405, 'CONNECT is not a method of this service: it is no proxy');
  });
}

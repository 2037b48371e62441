import { CanActivate, ExecutionContext, Injectable, SetMetadata } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Request, Response } from 'express';
import { LISTENER_SETTINGS, type ListenerSettings } from '../config';
import { ClientError } from './http-error';

/** How deeply a request body's objects and arrays may nest ({} alone is 1). */
export const MAX_BODY_DEPTH = 32;
/** Keys that mean something to JavaScript objects: refused anywhere in a body, like any unknown key. */
export const FORBIDDEN_BODY_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

const BODY_ERROR = Symbol('bodyError');
const BODY_AS_TEXT = Symbol('bodyAsText');
type ReadRequest = Request & { [BODY_ERROR]?: Error; [BODY_AS_TEXT]?: boolean };

const JSON_AS_TEXT = 'sc-spawner:acceptsJsonAsText';
/** The route also reads a JSON text sent as text/plain (the HOOPS routes: browsers send it so to avoid a preflight). */
export const AcceptsJsonAsText = () => SetMetadata(JSON_AS_TEXT, true);

/**
 * Reads request bodies, bounded and typed before anything else sees them: JSON only (application/json, or
 * text/plain on routes marked @AcceptsJsonAsText), at most BODY_LIMIT bytes, uncompressed, a JSON object at
 * the top, nested at most MAX_BODY_DEPTH deep, without __proto__/constructor/prototype keys. A request without
 * a body is left alone. A body that is refused is not answered here: its error is kept on the request and
 * thrown by RequestBodyGuard once the request has reached its route, so that the route's own exception filter
 * (the HOOPS `{status, reason}` shape, say) renders it, and an unknown route stays a 404. Needs the
 * application created with `bodyParser: false`.
 */
export function useRequestBodies(app: INestApplication): void {
  const limit = app.get<ListenerSettings>(LISTENER_SETTINGS.token).bodyLimitBytes;
  const express = app as NestExpressApplication;
  express.use(checkContentType);
  // inflate: false: a compressed body is refused (415) rather than inflated past the limit's intent.
  express.useBodyParser('json', { type: ['application/json', 'text/plain'], limit, strict: false, inflate: false });
  express.use(checkParsedBody);
  express.use((error: Error, request: ReadRequest, _response: Response, next: NextFunction) => {
    request[BODY_ERROR] = asClientError(error, limit);
    next();
  });
}

/** Throws the error met while reading the body, inside the route (see useRequestBodies). */
@Injectable()
export class RequestBodyGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<ReadRequest>();
    if (request[BODY_ERROR] !== undefined) throw request[BODY_ERROR];
    if (
      request[BODY_AS_TEXT] &&
      !this.reflector.getAllAndOverride<boolean>(JSON_AS_TEXT, [context.getHandler(), context.getClass()])
    ) {
      throw new ClientError(415, 'the request body must be sent as Content-Type: application/json');
    }
    return true;
  }
}

/** A body is there when its length is announced and not zero, or it comes chunked. */
function carriesBody(request: Request): boolean {
  return request.headers['transfer-encoding'] !== undefined || Number(request.headers['content-length']) > 0;
}

function checkContentType(request: ReadRequest, _response: Response, next: NextFunction): void {
  if (!carriesBody(request)) return next();
  const type = request.is(['application/json', 'text/plain']);
  if (!type) {
    const given = request.headers['content-type'];
    return next(
      new ClientError(
        415,
        `the request body must be JSON sent as Content-Type: application/json (got ${given ? JSON.stringify(given.slice(0, 100)) : 'no Content-Type'})`,
      ),
    );
  }
  if (type === 'text/plain') request[BODY_AS_TEXT] = true;
  next();
}

function checkParsedBody(request: ReadRequest, _response: Response, next: NextFunction): void {
  const body: unknown = request.body;
  if (body === undefined || !carriesBody(request)) return next();
  const problem = bodyProblem(body);
  next(problem ? new ClientError(400, `the request body ${problem}`) : undefined);
}

/** What is wrong with a parsed body, walked without recursion (the input decides the depth); undefined when nothing. */
export function bodyProblem(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    const what = body === null ? 'null' : Array.isArray(body) ? 'an array' : `a ${typeof body}`;
    return `must be a JSON object ({...}), got ${what}`;
  }
  const pending: Array<{ value: object; depth: number; path: string }> = [{ value: body, depth: 1, path: '' }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const { value, depth, path } = next;
    if (depth > MAX_BODY_DEPTH) return `is nested deeper than ${MAX_BODY_DEPTH} levels (at ${path})`;
    const isArray = Array.isArray(value);
    for (const key of Object.keys(value)) {
      const at = isArray ? `${path}[${key}]` : path ? `${path}.${key}` : key;
      if (!isArray && FORBIDDEN_BODY_KEYS.has(key)) return `may not contain the key ${JSON.stringify(key)} (at ${at})`;
      const child: unknown = (value as Record<string, unknown>)[key];
      if (typeof child === 'object' && child !== null) pending.push({ value: child, depth: depth + 1, path: at });
    }
  }
  return undefined;
}

/** body-parser's errors (and ours) as a 4xx the client can act on. */
function asClientError(error: Error, limit: number): ClientError {
  if (error instanceof ClientError) return error;
  const { type, status } = error as Error & { type?: string; status?: number };
  switch (type) {
    case 'entity.too.large':
      return new ClientError(413, `the request body is larger than ${limit} bytes (BODY_LIMIT)`);
    case 'entity.parse.failed':
      return new ClientError(400, `the request body is not valid JSON: ${error.message}`);
    case 'encoding.unsupported':
      return new ClientError(415, 'the request body must not be compressed (no Content-Encoding)');
    case 'charset.unsupported':
      return new ClientError(415, `${error.message}: send UTF-8`);
  }
  return new ClientError(typeof status === 'number' && status >= 400 && status < 500 ? status : 400, error.message);
}

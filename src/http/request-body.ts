import {
  Inject,
  Injectable,
  SetMetadata,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { json, type Request, type RequestHandler, type Response } from 'express';
import type { Observable } from 'rxjs';
import { LISTENER_SETTINGS, type ListenerSettings } from '../config';
import { ClientError } from './http-error';

/** How deeply a request body's objects and arrays may nest ({} alone is 1). */
export const MAX_BODY_DEPTH = 32;
/**
 * How many keys one object of a request body may have. The bodies taken have a handful of fields (the HOOPS
 * `params`, whose unknown keys are ignored, seven known ones); class-validator spends tens of µs and a message on
 * each unknown key: 7,000 of them (62 kB) held the event loop 150-500 ms a request and were answered in 270 kB,
 * where refused here they cost 1-2 ms and 137 bytes.
 */
export const MAX_BODY_KEYS = 100;
/**
 * How many values a request body may hold in all (each object's and array's members, at any depth). The per-object
 * limit leaves many small ones: 20,000 empty objects in one array (60 kB) cost class-transformer and
 * class-validator 50-77 ms a request. The bodies taken hold a few dozen values.
 */
export const MAX_BODY_VALUES = 1000;
/** Keys that mean something to JavaScript objects: refused anywhere in a body, like any unknown key. */
export const FORBIDDEN_BODY_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

const JSON_AS_TEXT = 'sc-spawner:acceptsJsonAsText';
/** The route also reads a JSON text sent as text/plain (the HOOPS routes: browsers send it so to avoid a preflight). */
export const AcceptsJsonAsText = () => SetMetadata(JSON_AS_TEXT, true);

/**
 * Reads a request's body once the request has passed every guard (its API key, its rate limit), so a request those
 * refuse never has its body read or parsed: 56 kB bodies of 7,000 small objects without a key were refused at
 * 568-657 a second while bodies were parsed first, at 2,081-3,520 since (4,657-5,440 without a body). The body is
 * bounded and typed before the route sees it: JSON only
 * (application/json, or text/plain on routes marked @AcceptsJsonAsText), at most BODY_LIMIT bytes, uncompressed,
 * in UTF-8, a JSON object at the top, nested at most MAX_BODY_DEPTH deep, at most MAX_BODY_KEYS keys an object and
 * MAX_BODY_VALUES values in all,
 * without __proto__/constructor/prototype keys. A request without a body is left alone. A refusal is thrown inside
 * the route, so that the route's own exception filter (the HOOPS `{status, reason}` shape, say) renders it; an
 * unknown route stays a 404 and reads nothing. Needs the application created with `bodyParser: false`.
 */
@Injectable()
export class RequestBodyInterceptor implements NestInterceptor {
  private readonly parse: RequestHandler;
  private readonly limit: number;

  constructor(
    private readonly reflector: Reflector,
    @Inject(LISTENER_SETTINGS.token) listener: ListenerSettings,
  ) {
    this.limit = listener.bodyLimitBytes;
    // inflate: false: a compressed body is refused (415) rather than inflated past the limit's intent.
    this.parse = json({ type: ['application/json', 'text/plain'], limit: this.limit, strict: false, inflate: false });
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> | Promise<Observable<unknown>> {
    if (context.getType() !== 'http') return next.handle();
    const http = context.switchToHttp();
    const request = http.getRequest<Request>();
    // Most requests carry none: they go on in this same turn.
    if (!carriesBody(request)) return next.handle();
    const asText = this.reflector.getAllAndOverride<boolean>(JSON_AS_TEXT, [context.getHandler(), context.getClass()]);
    checkContentType(request, asText === true);
    return this.read(request, http.getResponse<Response>()).then(() => {
      const problem = request.body === undefined ? undefined : bodyProblem(request.body);
      if (problem) throw new ClientError(400, `the request body ${problem}`);
      return next.handle();
    });
  }

  private read(request: Request, response: Response): Promise<void> {
    return new Promise((resolve, reject) =>
      this.parse(request, response, (error?: unknown) =>
        error ? reject(asClientError(error as Error, this.limit)) : resolve(),
      ),
    );
  }
}

/** A body is there when its length is announced and not zero, or it comes chunked. */
function carriesBody(request: Request): boolean {
  return request.headers['transfer-encoding'] !== undefined || Number(request.headers['content-length']) > 0;
}

function checkContentType(request: Request, asText: boolean): void {
  const type = request.is(['application/json', 'text/plain']);
  if (type === 'text/plain' && !asText) {
    throw new ClientError(415, 'the request body must be sent as Content-Type: application/json');
  }
  if (!type) {
    const given = request.headers['content-type'];
    throw new ClientError(
      415,
      `the request body must be JSON sent as Content-Type: application/json (got ${given ? JSON.stringify(given.slice(0, 100)) : 'no Content-Type'})`,
    );
  }
  const charset = charsetOtherThanUtf8(request.headers['content-type']);
  if (charset !== undefined) throw notUtf8(charset);
}

const CHARSET_PARAMETER = /;[ \t]*charset[ \t]*=([^;]*)/gi;

/**
 * The first charset parameter of a Content-Type other than UTF-8 (case aside, quoted or not); undefined when every
 * one is UTF-8 or there is none. Each `charset=` is read, so that none can pass that body-parser would decode
 * with (it reads the first, through its own parser): a quoted value with a `;` or an escape is refused here rather
 * than read as body-parser would. us-ascii too: RFC 8259 has JSON in UTF-8 and body-parser refuses it anyway.
 */
export function charsetOtherThanUtf8(contentType: string | undefined): string | undefined {
  for (const [, raw] of (contentType ?? '').matchAll(CHARSET_PARAMETER)) {
    const value = raw.trim().replace(/^"(.*)"$/, '$1');
    if (value.toLowerCase() !== 'utf-8') return value;
  }
  return undefined;
}

function notUtf8(charset: string): ClientError {
  return new ClientError(
    415,
    `the request body must be JSON in UTF-8 (got charset ${JSON.stringify(charset.slice(0, 40))})`,
  );
}

/** What is wrong with a parsed body, walked without recursion (the input decides the depth); undefined when nothing. */
export function bodyProblem(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    const what = body === null ? 'null' : Array.isArray(body) ? 'an array' : `a ${typeof body}`;
    return `must be a JSON object ({...}), got ${what}`;
  }
  const pending: Array<{ value: object; depth: number; path: string }> = [{ value: body, depth: 1, path: '' }];
  let values = 0;
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const { value, depth, path } = next;
    if (depth > MAX_BODY_DEPTH) return `is nested deeper than ${MAX_BODY_DEPTH} levels (at ${path})`;
    const isArray = Array.isArray(value);
    const keys = Object.keys(value);
    if (!isArray && keys.length > MAX_BODY_KEYS) {
      return `may have at most ${MAX_BODY_KEYS} keys in an object, got ${keys.length} (at ${path || 'the top level'})`;
    }
    values += keys.length;
    if (values > MAX_BODY_VALUES)
      return `may hold at most ${MAX_BODY_VALUES} values in all (at ${path || 'the top level'})`;
    for (const key of keys) {
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
      return notUtf8(String((error as Error & { charset?: string }).charset));
  }
  return new ClientError(typeof status === 'number' && status >= 400 && status < 500 ? status : 400, error.message);
}

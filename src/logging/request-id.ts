import { randomUUID } from 'crypto';
import type { IncomingMessage, ServerResponse } from 'http';

/** An X-Request-Id a client or proxy sent is kept only when it is a plain token (it goes into logs and headers). */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:@-]{1,128}$/;

/** The request's id: the sane X-Request-Id it came with, or a new UUID; echoed in the response's X-Request-Id. */
export function requestIdOf(request: IncomingMessage, response: ServerResponse): string {
  const given = request.headers['x-request-id'];
  const id = typeof given === 'string' && SANE_REQUEST_ID.test(given) ? given : randomUUID();
  response.setHeader('X-Request-Id', id);
  return id;
}

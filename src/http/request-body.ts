import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Request, Response } from 'express';

const BODY_ERROR = Symbol('bodyError');
type RequestWithBodyError = Request & { [BODY_ERROR]?: Error };

/**
 * Reads request bodies (JSON, and text/plain for the HOOPS routes, see HoopsController). A body that cannot be
 * read is not answered here: its error is kept on the request and thrown by RequestBodyGuard once the request
 * has reached its route, so that the route's own exception filter (the HOOPS `{status, reason}` shape, say)
 * renders it. Needs the application created with `bodyParser: false`.
 */
export function useRequestBodies(app: INestApplication): void {
  const express = app as NestExpressApplication;
  express.useBodyParser('json');
  express.useBodyParser('urlencoded', { extended: true });
  express.useBodyParser('text', { type: 'text/plain' });
  express.use((error: Error, request: RequestWithBodyError, _response: Response, next: NextFunction) => {
    request[BODY_ERROR] = error;
    next();
  });
}

/** Throws the error met while reading the body, inside the route (see useRequestBodies). */
@Injectable()
export class RequestBodyGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<RequestWithBodyError>();
    if (request[BODY_ERROR] !== undefined) throw request[BODY_ERROR];
    return true;
  }
}

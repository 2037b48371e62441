import { CanActivate, ExecutionContext, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import { ACCESS_SETTINGS, type AccessSettings } from '../config';
import { ApiKeys } from './api-keys';
import { needsKey, QUERY_TOKEN, ROUTE_ACCESS, RouteAccess } from './route-access';

export const WWW_AUTHENTICATE = 'Bearer realm="sc-spawner"';

/** The key a request presents: `Authorization: Bearer <key>`, or `?access_token=` where the route allows it. */
export function presentedKey(request: Request, queryAllowed: boolean): string | undefined {
  const header = request.headers.authorization;
  if (typeof header === 'string') {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    return match ? match[1] : undefined;
  }
  const token = request.query?.access_token;
  return queryAllowed && typeof token === 'string' ? token : undefined;
}

/** The global guard: with API keys configured, every route not marked otherwise (route-access.ts) needs one. */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly keys: ApiKeys,
    @Inject(ACCESS_SETTINGS.token) private readonly settings: AccessSettings,
    private readonly reflector: Reflector,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    if (!this.keys.enabled || context.getType() !== 'http') return true;
    const targets = [context.getHandler(), context.getClass()];
    const access = this.reflector.getAllAndOverride<RouteAccess | undefined>(ROUTE_ACCESS, targets);
    if (!needsKey(access, this.settings)) return true;
    const request = context.switchToHttp().getRequest<Request>();
    const queryAllowed = this.reflector.get<boolean | undefined>(QUERY_TOKEN, context.getHandler()) === true;
    const key = presentedKey(request, queryAllowed);
    if (this.keys.matches(key)) return true;
    context.switchToHttp().getResponse<Response>().setHeader('WWW-Authenticate', WWW_AUTHENTICATE);
    throw new UnauthorizedException(
      key === undefined ? 'an API key is required: send Authorization: Bearer <key>' : 'the API key is not valid',
    );
  }
}

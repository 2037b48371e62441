import { CanActivate, ExecutionContext, ForbiddenException, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { isLoopbackAddress } from '../http';

/** Whether a connection comes from this machine: loopback, or one of this host's own addresses talking to itself. */
export function isLocalConnection(remoteAddress: string | undefined, localAddress: string | undefined): boolean {
  if (!remoteAddress) return false;
  return isLoopbackAddress(remoteAddress) || remoteAddress === localAddress;
}

/**
 * Liveliness reports come from the servers this service started, all on this machine. A report from elsewhere
 * could keep a hung server alive or end a session's accounting, so it is refused.
 */
@Injectable()
export class LocalReporterGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const { socket, headers } = context.switchToHttp().getRequest<Request>();
    // A reverse proxy on this machine makes every client look local; servers never come through one.
    const forwarded = headers['x-forwarded-for'] !== undefined || headers['forwarded'] !== undefined;
    if (!forwarded && isLocalConnection(socket.remoteAddress, socket.localAddress)) return true;
    throw new ForbiddenException('liveliness reports are accepted only from servers on this machine');
  }
}

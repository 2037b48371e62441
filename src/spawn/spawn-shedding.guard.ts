import { CanActivate, Injectable } from '@nestjs/common';
import { SupervisorService } from '../supervisor';

/**
 * Sheds load at the door of POST /spawn: while the node can take no spawn at all (every slot held and no warm server
 * to hand out or retire, or it is draining or stopping), the request is refused here, once the caller's key has passed
 * (the global guard) and before the rate limit, the body's reading (RequestBodyInterceptor) and validation, and the
 * handler run.
 * The refusal is the one the route itself gives (thrown to the global error filter: 503, Retry-After, the same body,
 * access line and metric), for less CPU than a health check, so a storm of them leaves the CPU to the servers booting
 * and to the balancer's checks. A request the node might serve goes on as before; one with a bad body or over its rate
 * is told 503 while the node is full, then its own fault once it is not.
 */
@Injectable()
export class SpawnSheddingGuard implements CanActivate {
  constructor(private readonly supervisor: SupervisorService) {}

  canActivate(): boolean {
    const refusal = this.supervisor.refusalForEveryRequest();
    if (refusal) throw refusal;
    return true;
  }
}

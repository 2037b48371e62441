import { Injectable, NestMiddleware } from '@nestjs/common';
import { SupervisorService } from '../supervisor';

/**
 * Sheds load at the door of POST /spawn: while the node can take no spawn at all (every slot held and no warm server
 * to hand out or retire, or it is draining or stopping), the request is refused here, before any guard, pipe or
 * handler runs. The refusal is the one the route itself gives (thrown to the global error filter: 503, Retry-After,
 * the same body, access line and metrics), at a third of the cost, so a storm of them leaves the CPU to the servers
 * booting and to the health checks. A request the node might serve goes on as before; one the route would have
 * refused for another reason (a bad body, no key, over its rate) is told 503 while the node is full, then the real
 * reason once it is not.
 */
@Injectable()
export class SpawnShedding implements NestMiddleware {
  constructor(private readonly supervisor: SupervisorService) {}

  use(_request: unknown, _response: unknown, next: () => void): void {
    const refusal = this.supervisor.refusalForEveryRequest();
    if (refusal) throw refusal;
    next();
  }
}

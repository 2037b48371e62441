import { CanActivate, ExecutionContext, ForbiddenException, Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import { SupervisorService } from '../supervisor';
import { ConnectionOwner } from './connection-owner.service';

/** How long a report may wait for its server's pid: a fork takes milliseconds; a launch that hangs refuses it. */
export const LAUNCH_WAIT_MS = 5000;

/**
 * A server's id is on its command line, readable by every local user, so it proves nothing: a report for a
 * running spawn is believed only when its connection was opened by that server's process group. Reports for
 * an unknown or ended spawn go on to the route, which answers them as before (404, or ignored).
 */
@Injectable()
export class ServerReporterGuard implements CanActivate {
  constructor(
    private readonly supervisor: SupervisorService,
    private readonly owner: ConnectionOwner,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<Request>();
    const id = String(request.params.id ?? '');
    // A report that arrives while the process is being started (the server's command line, with this id, can be
    // in `ps` already) waits for the pid to check it against.
    const launching = this.supervisor.launching(id);
    if (launching) await withinLaunchWait(launching);
    const spawn = this.supervisor.get(id);
    if (!spawn || spawn.endedAt !== undefined) return true;
    // Without a pid and start time the server was gone before it could be identified: nothing of it can report.
    const { pid, pidStartTime } = spawn;
    if (pid !== undefined && pidStartTime !== undefined) {
      if (await this.owner.openedByGroup(request.socket, pid, pidStartTime)) return true;
    }
    // A refusal is not remembered for the connection (ConnectionOwner), so it is closed: each new try of a forger
    // costs a connection, as before, rather than one lookup per report pipelined on the same one.
    context.switchToHttp().getResponse<Response>().setHeader('Connection', 'close');
    throw new ForbiddenException(
      `liveliness reports for ${id} are accepted only from that server's own processes; this connection is not one of theirs`,
    );
  }
}

function withinLaunchWait(launching: Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const waited = new Promise<void>((resolve) => (timer = setTimeout(resolve, LAUNCH_WAIT_MS)));
  return Promise.race([launching, waited]).finally(() => clearTimeout(timer));
}

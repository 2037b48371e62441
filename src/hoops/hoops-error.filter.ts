import { ArgumentsHost, Catch, Injectable } from '@nestjs/common';
import type { Response } from 'express';
import { HttpErrorFilter, markRefusal, prepare } from '../http';

/**
 * Errors of the HOOPS Server's spawning routes. Their clients read `reason` from `{status: "failed", reason}`,
 * so every error there takes that shape, a body that could not be read included (see RequestBodyInterceptor).
 */
@Catch()
@Injectable()
export class HoopsErrorFilter extends HttpErrorFilter {
  override catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    const view = this.viewOf(exception, host);
    if (!prepare(response, view)) return;
    markRefusal(response, exception);
    // The HOOPS Server answers a server that failed to start with 500; its clients know no 502.
    response.status(view.status === 502 ? 500 : view.status).json({ status: 'failed', reason: view.message });
  }
}

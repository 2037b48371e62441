import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { toHttpErrorView } from './http-error';

/**
 * Routes of the HOOPS Server spawning API. Their clients read `reason` from `{status: "failed", reason}`,
 * so every error there, including body-parser's before any controller runs, takes that shape.
 */
export const HOOPS_SPAWN_ROUTES: ReadonlySet<string> = new Set(['/api/spawn', '/service']);

/** The one global error filter: Nest's usual body (or the HOOPS shape on its routes), Retry-After when asked, never a stack. */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger(HttpErrorFilter.name);

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const response = http.getResponse<Response>();
    const request = http.getRequest<Request>();
    const view = toHttpErrorView(exception);
    if (view.status >= 500 && !(exception instanceof HttpException)) {
      this.logger.error(exception instanceof Error ? (exception.stack ?? exception.message) : String(exception));
    }
    if (response.headersSent) {
      response.end();
      return;
    }
    if (view.retryAfterS !== undefined) response.setHeader('Retry-After', String(view.retryAfterS));
    // Express routes case-insensitively and ignores a trailing slash, so /Service/ reaches the same handler.
    if (HOOPS_SPAWN_ROUTES.has(request.path.toLowerCase().replace(/(.)\/+$/, '$1'))) {
      // The HOOPS Server answers a server that failed to start with 500; its clients know no 502.
      const status = view.status === 502 ? 500 : view.status;
      response.status(status).json({ status: 'failed', reason: view.message });
      return;
    }
    response.status(view.status).json(view.body);
  }
}

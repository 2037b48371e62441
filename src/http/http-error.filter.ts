import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Injectable, Logger, Optional } from '@nestjs/common';
import type { Request, Response } from 'express';
import { isSpawnRoute, SpawnerMetrics } from '../metrics';
import { NoCapacityError } from '../supervisor';
import { HttpErrorView, rejectionReasonOf, toHttpErrorView } from './http-error';

/** The global error filter: Nest's usual body, Retry-After when asked, never a stack. Modules may render their own shape. */
@Catch()
@Injectable()
export class HttpErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger(HttpErrorFilter.name);

  constructor(@Optional() private readonly metrics?: SpawnerMetrics) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    const view = this.viewOf(exception, host);
    if (!prepare(response, view)) return;
    markRefusal(response, exception);
    response.status(view.status).json(view.body);
  }

  /** The error as HTTP; a refused spawn request is counted (sc_spawner_spawn_rejections_total). */
  protected viewOf(exception: unknown, host: ArgumentsHost): HttpErrorView {
    const view = toHttpErrorView(exception);
    const request = host.switchToHttp().getRequest<Request>();
    if (this.metrics && isSpawnRoute(request.method, (request.route as { path?: unknown } | undefined)?.path)) {
      const reason = rejectionReasonOf(exception, view.status);
      if (reason) this.metrics.rejected(reason);
    }
    if (view.status >= 500 && !(exception instanceof HttpException) && view.message === 'internal error') {
      this.logger.error(exception instanceof Error ? (exception.stack ?? exception.message) : String(exception));
    }
    return view;
  }
}

/**
 * The access log's err for a refusal: the supervisor's own words, where pino-http would make (and format the stack
 * of) a new "failed with status code 503" for every one of a storm's refusals; the logger also writes a storm's
 * refusals once per reason by it (src/logging/refusal-log.ts).
 */
export function markRefusal(response: Response, exception: unknown): void {
  if (exception instanceof NoCapacityError) (response as Response & { err?: Error }).err = exception;
}

/** Ends a response that was already under way; otherwise sets Retry-After. False when nothing more may be written. */
export function prepare(response: Response, view: HttpErrorView): boolean {
  if (response.headersSent) {
    response.end();
    return false;
  }
  if (view.retryAfterS !== undefined) response.setHeader('Retry-After', String(view.retryAfterS));
  return true;
}

import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { Response } from 'express';
import { HttpErrorView, toHttpErrorView } from './http-error';

/** The global error filter: Nest's usual body, Retry-After when asked, never a stack. Modules may render their own shape. */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger(HttpErrorFilter.name);

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    const view = this.viewOf(exception);
    if (!prepare(response, view)) return;
    response.status(view.status).json(view.body);
  }

  protected viewOf(exception: unknown): HttpErrorView {
    const view = toHttpErrorView(exception);
    if (view.status >= 500 && !(exception instanceof HttpException) && view.message === 'internal error') {
      this.logger.error(exception instanceof Error ? (exception.stack ?? exception.message) : String(exception));
    }
    return view;
  }
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

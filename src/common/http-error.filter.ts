import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { Response } from 'express';
import { toHttpErrorView } from './http-error';

/** The global error shape: Nest's usual body, plus Retry-After when the error asks for it; never a stack to clients. */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger(HttpErrorFilter.name);

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    if (!(exception instanceof HttpException)) this.logger.error(exception instanceof Error ? exception.stack : String(exception));
    const view = toHttpErrorView(exception);
    if (response.headersSent) {
      response.end();
      return;
    }
    if (view.retryAfterS !== undefined) response.setHeader('Retry-After', String(view.retryAfterS));
    response.status(view.status).json(view.body);
  }
}

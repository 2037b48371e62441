import { HttpException, HttpStatus } from '@nestjs/common';

/** An HttpException that also asks the client to retry after a delay (503 at capacity or shutting down). */
export class RetryableHttpException extends HttpException {
  constructor(
    message: string,
    readonly retryAfterS: number,
    status: HttpStatus = HttpStatus.SERVICE_UNAVAILABLE,
  ) {
    super(message, status);
  }
}

export interface HttpErrorView {
  status: number;
  message: string;
  /** The response body Nest would give, kept for the default shape. */
  body: unknown;
  retryAfterS?: number;
}

/** One reading of any thrown value as an HTTP error, shared by every exception filter. */
export function toHttpErrorView(exception: unknown): HttpErrorView {
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const response = exception.getResponse();
    const message =
      typeof response === 'string'
        ? response
        : messageOf((response as { message?: unknown }).message) ?? exception.message;
    const body = typeof response === 'string' ? { statusCode: status, message: response } : response;
    return {
      status,
      message,
      body,
      retryAfterS: exception instanceof RetryableHttpException ? exception.retryAfterS : undefined,
    };
  }
  return {
    status: HttpStatus.INTERNAL_SERVER_ERROR,
    message: 'internal error',
    body: { statusCode: 500, error: 'Internal Server Error', message: 'internal error' },
  };
}

function messageOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(String).join('; ');
  return undefined;
}

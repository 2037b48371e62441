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
  const clientError = asClientError(exception);
  if (clientError) {
    return { status: clientError.status, message: clientError.message, body: { statusCode: clientError.status, message: clientError.message } };
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

/** Errors from Express middleware (body-parser's 413, 415...) carry a 4xx status and a message meant for the client. */
function asClientError(exception: unknown): { status: number; message: string } | undefined {
  if (!(exception instanceof Error)) return undefined;
  const { status, expose } = exception as Error & { status?: unknown; expose?: unknown };
  if (typeof status === 'number' && status >= 400 && status < 500 && expose === true) return { status, message: exception.message };
  return undefined;
}

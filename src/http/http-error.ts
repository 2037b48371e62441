import { HttpException, HttpStatus } from '@nestjs/common';
import type { RejectionReason } from '../metrics';
import { unroutedMessage } from './echoed-text';
import {
  ClientGoneError,
  DuplicateSpawnError,
  NoCapacityError,
  QuotaExceededError,
  RendererDisabledError,
  SpawnNotReadyError,
  UnknownSpawnError,
} from '../supervisor';

/** Why a spawn request was refused, as the rejections metric names it; undefined when it is not a refusal. */
export function rejectionReasonOf(exception: unknown, status: number): RejectionReason | undefined {
  if (exception instanceof NoCapacityError) return exception.reason === 'slots' ? 'capacity' : exception.reason;
  if (exception instanceof RendererDisabledError) return 'disabled';
  // Counted where it is decided (SessionQuotas), for every spawn path, with the key's name.
  if (exception instanceof QuotaExceededError) return undefined;
  if (status === 429) return 'rate_limit';
  if (status === 400 || status === 413 || status === 415) return 'invalid';
  return undefined;
}

/** Seconds a client is told to wait before retrying when no slot or port is free. */
export const RETRY_AFTER_AT_CAPACITY_S = 5;
export const RETRY_AFTER_SHUTTING_DOWN_S = 30;
/** A draining node takes nothing new for good; through a balancer the retry lands on another node. */
export const RETRY_AFTER_DRAINING_S = 5;
/** nginx's "client closed request": for the access log only, since nobody reads the answer. */
export const CLIENT_CLOSED_REQUEST = 499;

/** A refusal of the request that the service's own code raises, with the status that says why. */
export class ClientError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly retryAfterS?: number,
  ) {
    super(message);
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
    const given =
      typeof response === 'string'
        ? response
        : (messageOf((response as { message?: unknown }).message) ?? exception.message);
    const message = status === 404 ? unroutedMessage(given) : given;
    const body =
      typeof response === 'string'
        ? { statusCode: status, message, error: errorName(status) }
        : message === given
          ? response
          : { ...response, message };
    return { status, message, body };
  }
  const known = domainStatus(exception) ?? clientErrorStatus(exception);
  if (known) {
    const { status, message, retryAfterS } = known;
    return { status, message, retryAfterS, body: { statusCode: status, message, error: errorName(status) } };
  }
  return {
    status: HttpStatus.INTERNAL_SERVER_ERROR,
    message: 'internal error',
    body: { statusCode: 500, error: 'Internal Server Error', message: 'internal error' },
  };
}

interface KnownError {
  status: number;
  message: string;
  retryAfterS?: number;
}

/** The supervisor's typed errors, as HTTP. */
function domainStatus(error: unknown): KnownError | undefined {
  if (error instanceof NoCapacityError) {
    const retryAfterS =
      error.reason === 'shutting_down'
        ? RETRY_AFTER_SHUTTING_DOWN_S
        : error.reason === 'draining'
          ? RETRY_AFTER_DRAINING_S
          : RETRY_AFTER_AT_CAPACITY_S;
    return { status: HttpStatus.SERVICE_UNAVAILABLE, message: error.message, retryAfterS };
  }
  if (error instanceof SpawnNotReadyError) {
    switch (error.reason) {
      case 'failed':
        return { status: HttpStatus.BAD_GATEWAY, message: error.message };
      case 'timed_out':
        return { status: HttpStatus.GATEWAY_TIMEOUT, message: `${error.message}; it was stopped` };
      case 'stopped':
        return { status: HttpStatus.CONFLICT, message: `the spawn was stopped before it was ready: ${error.message}` };
    }
  }
  if (error instanceof QuotaExceededError) {
    return { status: HttpStatus.TOO_MANY_REQUESTS, message: error.message, retryAfterS: error.retryAfterS };
  }
  if (error instanceof ClientGoneError) return { status: CLIENT_CLOSED_REQUEST, message: error.message };
  if (error instanceof UnknownSpawnError) return { status: HttpStatus.NOT_FOUND, message: error.message };
  if (error instanceof DuplicateSpawnError) return { status: HttpStatus.CONFLICT, message: error.message };
  if (error instanceof RendererDisabledError) return { status: HttpStatus.FORBIDDEN, message: error.message };
  return undefined;
}

/** Our own ClientErrors, and Express middleware's (body-parser's 413, 415...): a 4xx with a message meant for the client. */
function clientErrorStatus(exception: unknown): KnownError | undefined {
  if (exception instanceof ClientError) {
    return { status: exception.status, message: exception.message, retryAfterS: exception.retryAfterS };
  }
  if (!(exception instanceof Error)) return undefined;
  const { status, expose } = exception as Error & { status?: unknown; expose?: unknown };
  if (typeof status === 'number' && status >= 400 && status < 500 && expose === true)
    return { status, message: exception.message };
  return undefined;
}

function messageOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(String).join('; ');
  return undefined;
}

const ERROR_NAMES: Record<number, string> = {
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

function errorName(status: number): string | undefined {
  return ERROR_NAMES[status];
}

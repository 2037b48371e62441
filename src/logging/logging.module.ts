import { Module } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'http';
import { LoggerModule, type Params } from 'nestjs-pino';
import pino from 'pino';
import pretty from 'pino-pretty';
import { steadyNow, steadyToDate, FileSystem } from '../adapters';
import { ApiKeys } from '../auth';
import { ACCESS_SETTINGS, type AccessSettings, SERVERS_SETTINGS, type ServersSettings } from '../config';
import { CLIENT_CLOSED_REQUEST } from '../http';
import { NoCapacityError, SecretRedactor } from '../supervisor';
import { LogRedactor } from './log-redactor';
import { RefusalLog } from './refusal-log';
import { requestIdOf } from './request-id';

/** On a refused request's response: how many refusals like it were not written since the last line (RefusalLog). */
const NOT_WRITTEN = Symbol('refusalsNotWritten');
/** The status the client was answered with, or 499 when it left before any answer was written (not 200). */
function answeredStatus(response: ServerResponse): number {
  return response.headersSent ? response.statusCode : CLIENT_CLOSED_REQUEST;
}

type LoggedResponse = ServerResponse & { err?: unknown; [NOT_WRITTEN]?: { count: number; since: string } };

/** Routes whose successful requests are logged at debug: liveliness reports from servers, probes and scrapes. */
const ROUTINE_ROUTES = /^\/(liveliness\/|api\/spawns\/[^/]+(\?|$)|health(\/|\?|$)|metrics(\?|$))/;

export function loggerParams(
  access: AccessSettings,
  servers: ServersSettings,
  keys: ApiKeys,
  files: FileSystem,
): Params {
  const license = new SecretRedactor(servers, files);
  const redactor = new LogRedactor([(text) => license.redact(text), (text) => keys.redact(text)]);
  const refusals = refusalLines(access.logLevel);
  const accessMessage = (request: IncomingMessage, response: LoggedResponse) =>
    `${request.method} ${redactor.text(request.url ?? '')} ${answeredStatus(response)}${refusals.suffix(response)}`;
  const options: pino.LoggerOptions = {
    level: access.logLevel,
    formatters: { level: (label) => ({ level: label }) },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'],
      censor: '***',
    },
    hooks: {
      logMethod(args, method) {
        method.apply(this, redactor.args(args) as Parameters<typeof method>);
      },
    },
  };
  const stream =
    access.logFormat === 'pretty'
      ? pretty({ colorize: process.stdout.isTTY === true, sync: true, singleLine: true })
      : pino.destination({ dest: 1, sync: true });
  return {
    pinoHttp: [
      {
        ...options,
        quietReqLogger: true,
        genReqId: (request: IncomingMessage, response: ServerResponse) => requestIdOf(request, response),
        customLogLevel: (request: IncomingMessage, response: LoggedResponse, error?: Error) => {
          const refusal = refusals.level(response);
          if (refusal) return refusal;
          if (error || response.statusCode >= 500) return 'error';
          if (response.statusCode < 400 && ROUTINE_ROUTES.test(request.url ?? '')) return 'debug';
          return 'info';
        },
        customSuccessMessage: accessMessage,
        // pino-http's own error for a 5xx is only "failed with status code N": the line says as much without it.
        customErrorMessage: accessMessage,
        customErrorObject: (_request: IncomingMessage, response: LoggedResponse, _error: Error, value: object) =>
          refusals.errorObject(response, value),
        serializers: {
          req: (request: {
            id: string;
            method: string;
            url: string;
            remoteAddress?: string;
            headers: Record<string, string>;
            raw?: { ip?: string };
          }) => ({
            id: request.id,
            method: request.method,
            url: redactor.text(request.url),
            // Express's req.ip: the client as TRUST_PROXY allows it to be known (a trusted proxy's X-Forwarded-For).
            remoteAddress: redactor.field(request.raw?.ip ?? request.remoteAddress),
            userAgent: redactor.field(request.headers?.['user-agent']),
          }),
          res: (response: { statusCode: number | null }) => ({
            statusCode: response.statusCode ?? CLIENT_CLOSED_REQUEST,
          }),
        },
      },
      stream,
    ],
  };
}

/** JSON lines on stdout (LOG_FORMAT=pretty for people), LOG_LEVEL, one access line per request with its id. */
@Module({
  imports: [
    LoggerModule.forRootAsync({
      inject: [ACCESS_SETTINGS.token, SERVERS_SETTINGS.token, ApiKeys, FileSystem],
      useFactory: loggerParams,
    }),
  ],
})
export class LoggingModule {}

/**
 * Access lines of refusals (the error filter puts a NoCapacityError on the response): one per reason every
 * REFUSAL_LOG_WINDOW_MS, the next saying how many were left out. At debug every one keeps a line (at debug);
 * otherwise those left out cost nothing.
 */
function refusalLines(logLevel: string) {
  const refusals = new RefusalLog();
  const leftOut = logLevel === 'debug' || logLevel === 'trace' ? 'debug' : 'silent';
  return {
    level(response: LoggedResponse): 'error' | 'debug' | 'silent' | undefined {
      if (!(response.err instanceof NoCapacityError)) return undefined;
      const decision = refusals.decide(response.err.reason, steadyNow());
      if (!decision.write) return leftOut;
      if (decision.since !== undefined)
        response[NOT_WRITTEN] = { count: decision.notWritten, since: steadyToDate(decision.since).toISOString() };
      return 'error';
    },
    suffix(response: LoggedResponse): string {
      const left = response[NOT_WRITTEN];
      if (!left || !(response.err instanceof NoCapacityError)) return '';
      return ` (and ${left.count} more spawn requests refused for ${response.err.reason} since ${left.since}, not logged)`;
    },
    errorObject(response: LoggedResponse, value: object): object {
      const left = response[NOT_WRITTEN];
      return left ? { ...value, refusalsNotLogged: left.count, notLoggedSince: left.since } : value;
    },
  };
}

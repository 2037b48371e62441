import { INestApplication, NestApplicationOptions, ShutdownSignal } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Server } from 'http';
import {
  EDGE_SETTINGS,
  type EdgeSettings,
  LISTENER_SETTINGS,
  type ListenerSettings,
  SCALE_OUT_SETTINGS,
  type ScaleOutSettings,
} from './config';
import {
  compileTrust,
  expressTrustProxy,
  applyHttpTimeouts,
  capConnectionsPerClient,
  capPipelinedRequests,
  useCors,
  refuseConnectRequests,
  refuseUnknownMethods,
  storeNoAnswers,
  buildOpenApiDocument,
  serveOpenApi,
  createValidationPipe,
} from './http';
import { nodePrefixMiddleware } from './node';

/**
 * Options for creating the application, shared by main.ts and the tests. Bodies are read by RequestBodyInterceptor;
 * forceCloseConnections: idle keep-alive and event-stream connections must not hold shutdown open.
 */
export const APP_OPTIONS: NestApplicationOptions = { bodyParser: false, forceCloseConnections: true };

/** Signals main.ts handles itself (ShutdownSignals: drain on SIGTERM); Nest's shutdown hooks take the others. */
export const SIGNALS_HANDLED_BY_MAIN: readonly string[] = [ShutdownSignal.SIGTERM, ShutdownSignal.SIGINT];

/**
 * The one pipeline setup shared by main.ts and the tests: trusted proxies, HTTP timeouts and the connection cap,
 * validation, CORS, the node prefix, Swagger, shutdown hooks. `ownSignals`: the caller handles SIGTERM and SIGINT itself (main.ts, for the graceful drain).
 */
export function configureApp(app: INestApplication, options: { ownSignals?: boolean } = {}): INestApplication {
  const edge = app.get<EdgeSettings>(EDGE_SETTINGS.token);
  const scaleOut = app.get<ScaleOutSettings>(SCALE_OUT_SETTINGS.token);
  app.useGlobalPipes(createValidationPipe());
  const express = app as NestExpressApplication;
  express.set('trust proxy', expressTrustProxy(edge.trustProxy));
  express.disable('x-powered-by');
  // No ETag on API answers (a SHA-1 of every body, 503s included, for conditional GETs no client of these makes);
  // files (res.sendFile: the dashboard) keep theirs, which `send` takes from the file's size and time.
  express.set('etag', () => undefined);
  const server = app.getHttpServer() as Server;
  applyHttpTimeouts(server, edge.headersTimeoutS, edge.requestTimeoutS);
  capConnectionsPerClient(server, edge.maxConnectionsPerClient, compileTrust(edge.trustProxy));
  // First of the middleware: a pipelining flood is dropped before anything handles its requests.
  capPipelinedRequests(app);
  refuseConnectRequests(server);
  storeNoAnswers(app);
  useCors(app, app.get<ListenerSettings>(LISTENER_SETTINGS.token), scaleOut.publicBaseUrl);
  // Before Nest's router: /n/<NODE_NAME>/... is this node's API; another node's prefix is answered 421 (with CORS headers).
  app.use(nodePrefixMiddleware(scaleOut.nodeName));
  // After CORS, so that its refusals (a method) still carry the CORS headers.
  refuseUnknownMethods(app);
  // useProcessExit: after a clean shutdown exit 0; Nest's default re-raises the signal, so the service would die "killed by SIGTERM".
  const signals = Object.values(ShutdownSignal).filter(
    (s) => !options.ownSignals || !SIGNALS_HANDLED_BY_MAIN.includes(s),
  );
  app.enableShutdownHooks(signals, { useProcessExit: true });

  serveOpenApi(app, buildOpenApiDocument(app));
  return app;
}

import { INestApplication, NestApplicationOptions } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { SwaggerModule } from '@nestjs/swagger';
import { AppConfig } from './config/app-config';
import { useCors } from './http/cors';
import { buildOpenApiDocument } from './http/openapi';
import { useRequestBodies } from './http/request-body';
import { createValidationPipe } from './http/validation';

/**
 * Options for creating the application, shared by main.ts and the tests. Bodies are read by useRequestBodies();
 * forceCloseConnections: idle keep-alive and event-stream connections must not hold shutdown open.
 */
export const APP_OPTIONS: NestApplicationOptions = { bodyParser: false, forceCloseConnections: true };

/** The one pipeline setup shared by main.ts and the tests: validation, CORS, Swagger, shutdown hooks. */
export function configureApp(app: INestApplication): INestApplication {
  const config = app.get(AppConfig);
  app.useGlobalPipes(createValidationPipe());
  (app as NestExpressApplication).set('trust proxy', config.trustProxy ? 1 : false);
  useCors(app, config);
  // After CORS, so that a refused body still carries the CORS headers. text/plain bodies reach handlers as
  // strings; the HOOPS routes read them as JSON (see HoopsController).
  useRequestBodies(app);
  // useProcessExit: after a clean shutdown exit 0; Nest's default re-raises the signal, so the service would die "killed by SIGTERM".
  app.enableShutdownHooks([], { useProcessExit: true });

  const document = buildOpenApiDocument(app);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
  return app;
}

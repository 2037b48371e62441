import { INestApplication, NestApplicationOptions } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { AppConfig } from './config/app-config';
import { refuseUnknownMethods } from './http/method-not-allowed';
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
  app.enableCors({
    origin: config.corsOrigins,
    methods: ['GET', 'POST', 'DELETE', 'OPTIONS'],
    optionsSuccessStatus: 204,
    // Request headers are not listed, so preflights reflect whatever the client asks for (legacy clients send Access-Control-* names).
    exposedHeaders: ['Retry-After'],
    maxAge: 600,
  });
  // After CORS, so that refusals (a body, a method) still carry the CORS headers.
  refuseUnknownMethods(app);
  useRequestBodies(app);
  // useProcessExit: after a clean shutdown exit 0; Nest's default re-raises the signal, so the service would die "killed by SIGTERM".
  app.enableShutdownHooks([], { useProcessExit: true });

  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('sc-spawner')
      .setDescription(
        'Starts a HOOPS Stream Cache Server (ts3d_sc_server) per viewing session, waits until it is ready, and supervises it. ' +
          'Also serves the HOOPS Server spawning API (/api/spawn, /service) for existing viewer applications.',
      )
      .setVersion('0.1.0')
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
  return app;
}

import { BadRequestException, INestApplication, ValidationError, ValidationPipe } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { AppConfig } from './config/app-config';

/** Flattens class-validator errors (nested ones too) into "field: rule" messages. */
function flattenValidationErrors(errors: ValidationError[], parent = ''): string[] {
  return errors.flatMap((error) => {
    const path = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) => (message.startsWith(error.property) ? `${parent ? `${parent}.` : ''}${message}` : `${path}: ${message}`));
    return [...own, ...flattenValidationErrors(error.children ?? [], path)];
  });
}

/** The global ValidationPipe: unknown fields are refused, and every 400 message names its field. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    exceptionFactory: (errors) => new BadRequestException(flattenValidationErrors(errors)),
  });
}

/** The one pipeline setup shared by main.ts and the tests: validation, CORS, Swagger, shutdown hooks. */
export function configureApp(app: INestApplication): INestApplication {
  const config = app.get(AppConfig);
  app.useGlobalPipes(createValidationPipe());
  // text/plain bodies reach handlers as strings; the HOOPS routes read them as JSON (see HoopsController).
  (app as NestExpressApplication).useBodyParser('text', { type: 'text/plain' });
  app.enableCors({
    origin: config.corsOrigins,
    methods: ['GET', 'POST', 'DELETE', 'OPTIONS'],
    optionsSuccessStatus: 204,
    // Request headers are not listed, so preflights reflect whatever the client asks for (legacy clients send Access-Control-* names).
    exposedHeaders: ['Retry-After'],
    maxAge: 600,
  });
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

import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { Logger as PinoLogger } from 'nestjs-pino';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';
import { APP_OPTIONS, configureApp } from './app.setup';
import { AppConfig, ConfigError } from './config/app-config';

async function bootstrap(): Promise<void> {
  const logger = new Logger('Bootstrap');
  let app;
  try {
    app = await NestFactory.create(AppModule.forRoot(), { ...APP_OPTIONS, abortOnError: false, bufferLogs: true });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`sc-spawner: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  app.useLogger(app.get(PinoLogger));
  configureApp(app);
  const config = app.get(AppConfig);
  if (config.usingSimulator) {
    logger.warn(`SC_EXECUTABLE is not set: spawning the bundled simulator ${config.scExecutable}`);
  }
  await app.listen(config.port, config.host);
  logger.log(`sc-spawner listening on http://${config.host}:${config.port} (API docs at /docs)`);
}

void bootstrap();

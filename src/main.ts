import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';
import { APP_OPTIONS, configureApp } from './app.setup';
import { AppConfig, ConfigError, describeSettings } from './config/app-config';

async function bootstrap(): Promise<void> {
  const logger = new Logger('Bootstrap');
  let app;
  try {
    // Logs are held until the app exists, so a configuration error is the one clear message below, not Nest's stack trace.
    app = await NestFactory.create(AppModule.forRoot(), {
      ...APP_OPTIONS,
      abortOnError: false,
      bufferLogs: true,
      autoFlushLogs: false,
    });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`sc-spawner: ${error.message}\n`);
      process.exit(1);
    }
    Logger.flush();
    throw error;
  }
  app.flushLogs();
  configureApp(app);
  const config = app.get(AppConfig);
  if (config.hoopsConfigFile) {
    logger.log(
      `settings read from the HOOPS Server configuration ${config.hoopsConfigFile} (environment variables win)`,
    );
  }
  for (const warning of config.hoopsConfigWarnings) logger.warn(`HOOPS_CONFIG: ${warning}`);
  logger.log(`effective settings:\n${describeSettings(config)}`);
  if (config.usingSimulator) {
    logger.warn(`SC_EXECUTABLE is not set: spawning the bundled simulator ${config.scExecutable}`);
  }
  await app.listen(config.port, config.host);
  logger.log(`sc-spawner listening on http://${config.host}:${config.port} (API docs at /docs)`);
}

void bootstrap();

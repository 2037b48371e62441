import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';
import { APP_OPTIONS, configureApp } from './app.setup';
import { AppConfig, ConfigError } from './config/app-config';
import { DrainService } from './drain/drain.service';
import { ShutdownSignals } from './drain/shutdown-signals';

async function bootstrap(): Promise<void> {
  const logger = new Logger('Bootstrap');
  let app;
  try {
    app = await NestFactory.create(AppModule.forRoot(), { ...APP_OPTIONS, abortOnError: false });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`sc-spawner: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  configureApp(app, { ownSignals: true });
  const config = app.get(AppConfig);
  const drain = app.get(DrainService);
  new ShutdownSignals(
    { drain: () => drain.drain(), close: () => app.close(), exit: (code) => process.exit(code) },
    config.drainTimeoutS,
  ).listen(process);
  if (config.usingSimulator) {
    logger.warn(`SC_EXECUTABLE is not set: spawning the bundled simulator ${config.scExecutable}`);
  }
  try {
    await app.listen(config.port, config.host);
  } catch (error) {
    // A port in use (PORT or AGENT_CHECK_PORT) is a setting to fix, not a crash: one line, exit 1.
    process.stderr.write(`sc-spawner: ${(error as Error).message}\n`);
    await app.close().catch(() => undefined);
    process.exit(1);
  }
  logger.log(`sc-spawner listening on http://${config.host}:${config.port} (API docs at /docs)`);
}

void bootstrap();

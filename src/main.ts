import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NodeFileSystem } from './adapters/file-system.adapter';
import { AppModule } from './app.module';
import { APP_OPTIONS, configureApp } from './app.setup';
import { AppConfig, ConfigError, describeSettings } from './config/app-config';
import { loadAppConfig, loadEnvFile } from './config/load-app-config';

/** The configuration, or undefined after printing its problems (and nothing else) on stderr. */
function configuration(): AppConfig | undefined {
  try {
    loadEnvFile();
    return loadAppConfig(process.env, new NodeFileSystem());
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`sc-spawner: ${error.message}\n`);
    return undefined;
  }
}

async function bootstrap(): Promise<void> {
  // Loaded before Nest starts, so a bad setting stops the service with its list of problems and no Nest log or stack.
  const config = configuration();
  if (!config) {
    process.exitCode = 1;
    return;
  }
  const logger = new Logger('Bootstrap');
  const app = await NestFactory.create(AppModule.forRoot(config), APP_OPTIONS);
  configureApp(app);
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

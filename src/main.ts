import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NodeFileSystem } from './adapters/file-system.adapter';
import { AppModule } from './app.module';
import { APP_OPTIONS, configureApp } from './app.setup';
import { AppConfig, ConfigError, describeSettings } from './config/app-config';
import { loadAppConfig, loadEnvFile } from './config/load-app-config';
import { DrainService } from './drain/drain.service';
import { ShutdownSignals } from './drain/shutdown-signals';

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
  configureApp(app, { ownSignals: true });
  const drain = app.get(DrainService);
  new ShutdownSignals(
    { drain: () => drain.drain(), close: () => app.close(), exit: (code) => process.exit(code) },
    config.drainTimeoutS,
  ).listen(process);
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

// First: an older Node.js stops here with one line, before Nest's ESM-only packages are loaded. Not through
// startup's door, which would load the rest of that room (and Nest) before the check.
// eslint-disable-next-line no-restricted-imports
import './startup/supported-node';
import 'reflect-metadata';
import { INestApplication, Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Logger as PinoLogger } from 'nestjs-pino';
import { AppConfig, ConfigError, idleTimeoutNotice, isLoopbackHost } from './config';
import { NodeFileSystem } from './adapters';
import { AppModule } from './app.module';
import { APP_OPTIONS, configureApp } from './app.setup';
import { loadAppConfig, loadEnvFile, startupAdvice, logSettings, claimInstance } from './startup';
import { listenWithBacklog } from './http';
import { DrainService, ShutdownSignals } from './drain';
import { NestStartUpLogger } from './logging';

/** Prints a configuration problem list (and nothing else) on stderr; exit code 1. */
function refuse(error: ConfigError): undefined {
  process.stderr.write(`sc-spawner: ${error.message}\n`);
  process.exitCode = 1;
  return undefined;
}

/** The configuration, or undefined after printing its problems. */
function configuration(): AppConfig | undefined {
  try {
    const dotEnv = loadEnvFile();
    return loadAppConfig(process.env, new NodeFileSystem(), undefined, dotEnv);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return refuse(error);
  }
}

/** The application, or undefined after printing the problems found while building it (API_KEYS_FILE). */
async function createApp(config: AppConfig): Promise<INestApplication | undefined> {
  try {
    // Logs are held until pino takes over; a problem while building the app is then its one clear message.
    return await NestFactory.create(AppModule.forRoot(config), {
      ...APP_OPTIONS,
      abortOnError: false,
      bufferLogs: true,
      autoFlushLogs: false,
    });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return refuse(error);
  }
}

async function bootstrap(): Promise<void> {
  // Loaded before Nest starts, so a bad setting stops the service with its list of problems and no Nest log or stack.
  const config = configuration();
  if (!config) return;
  // Before Nest: a second instance on the same state folder or PORT stops here, having read or killed nothing.
  const claim = await claimInstance(config);
  if (!claim.ok) {
    process.stderr.write(`sc-spawner: ${claim.message}\n`);
    process.exitCode = 1;
    return;
  }
  process.once('exit', claim.release);
  const app = await createApp(config);
  if (!app) return;
  app.useLogger(new NestStartUpLogger(app.get(PinoLogger)));
  app.flushLogs();
  const logger = new Logger('Bootstrap');
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
  logSettings(logger, config);
  for (const warning of startupAdvice(config, process.env, new NodeFileSystem())) logger.warn(warning);
  const idleNotice = idleTimeoutNotice(config);
  if (idleNotice) logger.warn(idleNotice);
  if (config.trustProxy === true && !isLoopbackHost(config.host)) {
    logger.warn(
      `TRUST_PROXY=true trusts X-Forwarded-For from whoever connects, and HOST=${config.host} is reachable beyond this machine: any client can pick its own address for the rate limit and quotas, and no client's connections are capped (MAX_CONNECTIONS_PER_CLIENT); list the balancer's addresses instead (TRUST_PROXY=10.0.0.5,10.0.1.0/24)`,
    );
  }
  if (config.usingSimulator) {
    logger.warn(`SC_EXECUTABLE is not set: spawning the bundled simulator ${config.scExecutable}`);
  }
  let twin: string | undefined;
  try {
    twin = await listenWithBacklog(app, config.port, config.host);
  } catch (error) {
    // A port in use (PORT or AGENT_CHECK_PORT) is a setting to fix, not a crash: one line, exit 1.
    process.stderr.write(`sc-spawner: ${(error as Error).message}\n`);
    await app.close().catch(() => undefined);
    process.exit(1);
  }
  const also = twin === undefined ? '' : ` and its ${twin.includes(':') ? `[${twin}]` : twin} twin`;
  logger.log(`sc-spawner listening on http://${config.host}:${config.port}${also} (API docs at /docs)`);
}

void bootstrap();

/** Logs: the pino module, redaction, refusal lines and printable text. */
export { LoggingModule } from './logging.module';
export { NestStartUpLogger } from './nest-start-up-logger';
export { printableLine } from './printable';
export { RefusalLog } from './refusal-log';

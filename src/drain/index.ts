/** Draining and shutting down: the drain state and the signals that start it. */
export { DrainModule } from './drain.module';
export { DrainService } from './drain.service';
export { ShutdownSignals } from './shutdown-signals';

/** The live event stream (server-sent events) of spawns and sweeps. */
export { EventsModule } from './events.module';

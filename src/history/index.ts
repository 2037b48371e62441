/** The last hour of the service's history, minute by minute (GET /api/history). */
export { HistoryModule } from './history.module';

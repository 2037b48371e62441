import { Module } from '@nestjs/common';
import { SupervisorModule } from '../supervisor';
import { HistoryController } from './history.controller';
import { HistoryRecorder } from './history.recorder';

/** GET /api/history: a small rolling record of the last hour for the dashboard. */
@Module({
  imports: [SupervisorModule],
  controllers: [HistoryController],
  providers: [HistoryRecorder],
})
export class HistoryModule {}

import { Module } from '@nestjs/common';
import { SupervisorModule } from '../supervisor';
import { DrainService } from './drain.service';

/** Graceful drain on SIGTERM (DRAIN_TIMEOUT_S). */
@Module({
  imports: [SupervisorModule],
  providers: [DrainService],
  exports: [DrainService],
})
export class DrainModule {}

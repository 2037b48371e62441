import { Module } from '@nestjs/common';
import { SupervisorModule } from '../supervisor/supervisor.module';
import { EventsController } from './events.controller';

@Module({
  imports: [SupervisorModule],
  controllers: [EventsController],
})
export class EventsModule {}

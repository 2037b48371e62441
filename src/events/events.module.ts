import { Module } from '@nestjs/common';
import { SupervisorModule } from '../supervisor';
import { EventsController } from './events.controller';

@Module({
  imports: [SupervisorModule],
  controllers: [EventsController],
})
export class EventsModule {}

import { Module } from '@nestjs/common';
import { SupervisorModule } from '../supervisor/supervisor.module';
import { LivelinessController } from './liveliness.controller';

@Module({
  imports: [SupervisorModule],
  controllers: [LivelinessController],
})
export class LivelinessModule {}

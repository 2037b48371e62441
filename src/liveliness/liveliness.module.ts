import { Module } from '@nestjs/common';
import { SupervisorModule } from '../supervisor';
import { LivelinessController } from './liveliness.controller';

/** Liveliness reports from the servers (loopback only). The HOOPS module takes them at its own path too. */
@Module({
  imports: [SupervisorModule],
  controllers: [LivelinessController],
})
export class LivelinessModule {}

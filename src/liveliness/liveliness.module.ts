import { Module } from '@nestjs/common';
import { SupervisorModule } from '../supervisor';
import { LivelinessController } from './liveliness.controller';

/** Liveliness reports from the servers (loopback only), at this service's path and at the HOOPS Server's. */
@Module({
  imports: [SupervisorModule],
  controllers: [LivelinessController],
})
export class LivelinessModule {}

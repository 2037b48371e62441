import { Module } from '@nestjs/common';
import { SupervisorModule } from '../supervisor';
import { ConnectionOwner } from './connection-owner.service';
import { LivelinessController } from './liveliness.controller';

/** Liveliness reports from the servers (their own connections only), at this service's path and at the HOOPS Server's. */
@Module({
  imports: [SupervisorModule],
  controllers: [LivelinessController],
  providers: [ConnectionOwner],
  exports: [ConnectionOwner],
})
export class LivelinessModule {}

import { Module } from '@nestjs/common';
import { SupervisorModule } from '../supervisor/supervisor.module';
import { ConnectionOwner } from './connection-owner.service';
import { LivelinessController } from './liveliness.controller';

/** Liveliness reports from the servers (their own connections only). The HOOPS module takes them at its own path too. */
@Module({
  imports: [SupervisorModule],
  controllers: [LivelinessController],
  providers: [ConnectionOwner],
  exports: [ConnectionOwner],
})
export class LivelinessModule {}

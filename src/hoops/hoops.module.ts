import { Module } from '@nestjs/common';
import { SpawnModule } from '../spawn/spawn.module';
import { LivelinessModule } from '../liveliness/liveliness.module';
import { SupervisorModule } from '../supervisor/supervisor.module';
import { HoopsStatusService } from './hoops-status.service';
import { HoopsController } from './hoops.controller';
import { ModelDirectoryPolicy } from './model-directories';

@Module({
  imports: [SpawnModule, SupervisorModule, LivelinessModule],
  controllers: [HoopsController],
  providers: [ModelDirectoryPolicy, HoopsStatusService],
})
export class HoopsModule {}

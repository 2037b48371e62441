import { Module } from '@nestjs/common';
import { SpawnModule } from '../spawn';
import { SupervisorModule } from '../supervisor';
import { HoopsStatusService } from './hoops-status.service';
import { HoopsController } from './hoops.controller';
import { ModelDirectoryPolicy } from './model-directories';

@Module({
  imports: [SpawnModule, SupervisorModule],
  controllers: [HoopsController],
  providers: [ModelDirectoryPolicy, HoopsStatusService],
})
export class HoopsModule {}

import { Module } from '@nestjs/common';
import { SupervisorModule } from '../supervisor';
import { AgentCheckService } from './agent-check.service';

/** The HAProxy agent-check listener (AGENT_CHECK_PORT). */
@Module({
  imports: [SupervisorModule],
  providers: [AgentCheckService],
  exports: [AgentCheckService],
})
export class AgentCheckModule {}

import { Module } from '@nestjs/common';
import { RateLimitModule } from '../rate-limit';
import { SupervisorModule } from '../supervisor';
import { TicketsModule } from '../tickets';
import { RelaySessions } from './relay-sessions';
import { TunnelRunner } from './tunnel-runner';
import { UpgradeGate } from './upgrade-gate';
import { WsProxyService } from './ws-proxy.service';

/** `ws://<host>:<PORT>/ws/<token>`: each session's WebSocket through the service's own port; spawn on connect. */
@Module({
  imports: [SupervisorModule, TicketsModule, RateLimitModule],
  providers: [WsProxyService, RelaySessions, UpgradeGate, TunnelRunner],
  exports: [WsProxyService],
})
export class ProxyModule {}

import { Module } from '@nestjs/common';
import { SupervisorModule } from '../supervisor';
import { WsProxyService } from './ws-proxy.service';

/** `ws://<host>:<PORT>/ws/<id>`: each session's WebSocket through the service's own port. */
@Module({
  imports: [SupervisorModule],
  providers: [WsProxyService],
  exports: [WsProxyService],
})
export class ProxyModule {}

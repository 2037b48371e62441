import { Module } from '@nestjs/common';
import { SpawnModule } from '../spawn';
import { SupervisorModule } from '../supervisor';
import { SpawnTickets } from './spawn-tickets';
import { TicketsController } from './tickets.controller';

/** Spawn tickets: POST /tickets issues them; the WebSocket proxy redeems them (spawn on connect). */
@Module({
  imports: [SpawnModule, SupervisorModule],
  controllers: [TicketsController],
  providers: [SpawnTickets],
  exports: [SpawnTickets],
})
export class TicketsModule {}

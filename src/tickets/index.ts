/** Spawn tickets (POST /tickets): short-lived grants used by POST /spawn and spawn-on-connect upgrades. */
export { TicketsModule } from './tickets.module';
export { SpawnTickets } from './spawn-tickets';
export type { TicketSpec } from './ticket-book';

/** The HOOPS Server-compatible API (drop-in routes, bodies, statuses and errors). */
export { HoopsModule } from './hoops.module';

/** The liveliness endpoint: reports servers POST (ping, ready, connections) at /liveliness/:id and HOOPS's path. */
export { LivelinessModule } from './liveliness.module';

/** The WebSocket relay and spawn on connect: the upgrade gate, tunnels and the relay worker. */
export { ProxyModule } from './proxy.module';

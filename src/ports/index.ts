/** WebSocket port leases: the module and the allocator, leased and released by the supervisor's processes only. */
export { PortsModule } from './ports.module';
export { PortAllocator, BUSY_PORT_RETRY_MS, type PortCounts } from './port-allocator.service';
export { portShortage } from './port-shortage';

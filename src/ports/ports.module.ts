import { Module } from '@nestjs/common';
import { PortAllocator } from './port-allocator.service';

/** WebSocket port leases; the probe is an adapter (AdaptersModule). */
@Module({
  providers: [PortAllocator],
  exports: [PortAllocator],
})
export class PortsModule {}

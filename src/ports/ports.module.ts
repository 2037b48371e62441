import { Module } from '@nestjs/common';
import { PortAllocator } from './port-allocator.service';
import { NetPortProbe, PortProbe } from './port-probe';

@Module({
  providers: [PortAllocator, { provide: PortProbe, useClass: NetPortProbe }],
  exports: [PortAllocator],
})
export class PortsModule {}

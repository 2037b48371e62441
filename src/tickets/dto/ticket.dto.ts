import { ApiProperty } from '@nestjs/swagger';

export class TicketDto {
  @ApiProperty({ example: 'q3Jx0v9aZ1c2d3e4f5g6h7i8j9k0l1m2', description: 'Single-use; valid until expiresAt' })
  ticket: string;

  @ApiProperty({
    example: 'wss://viewers.example.com/n/node-a/?renderingLocation=csr&ticket=q3Jx0v9aZ1c2d3e4f5g6h7i8j9k0l1m2',
    description:
      'The WebSocket URL the viewer opens: under this node’s prefix (through a balancer the ticket comes back to the node that issued it); absolute through PUBLIC_BASE_URL when set',
  })
  url: string;

  @ApiProperty({
    example: '2026-12-04T16:30:00.000Z',
    description: 'When the ticket stops being accepted (SC_TICKET_TTL_S)',
  })
  expiresAt: string;
}

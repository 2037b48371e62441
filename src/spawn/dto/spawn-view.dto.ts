import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { RENDERER_TYPES, RendererType } from '@app/sc-protocol';
import { SPAWN_STATES, SpawnState } from '../../supervisor/spawn-state';

export class SpawnViewDto {
  @ApiProperty({ example: '3f1c2a4e-8d0b-4c53-9a7e-2b6f0d9e1c11' })
  id: string;

  @ApiProperty({ enum: SPAWN_STATES, example: 'ready' })
  state: SpawnState;

  @ApiProperty({ enum: RENDERER_TYPES, example: 'csr' })
  rendererType: RendererType;

  @ApiProperty({ example: 55000 })
  wsPort: number;

  @ApiProperty({
    example: 'ws://viewer.example.com:55000',
    description: 'What the viewer should connect to (direct port or proxy path, per PUBLIC_ENDPOINT)',
  })
  endpoint: string;

  @ApiProperty({
    example: 'ws://viewer.example.com:11182/ws/3f1c2a4e-8d0b-4c53-9a7e-2b6f0d9e1c11',
    description: "The session through the service's own port",
  })
  proxyEndpoint: string;

  @ApiPropertyOptional({ example: 41234 })
  pid?: number;

  @ApiPropertyOptional({ example: 'microengine', nullable: true })
  model: string | null;

  @ApiProperty({ example: '2026-11-25T08:00:00.000Z' })
  startedAt: string;

  @ApiPropertyOptional({ example: '2026-11-25T08:00:00.090Z', nullable: true })
  readyAt: string | null;

  @ApiPropertyOptional({ example: 90, nullable: true, description: 'Milliseconds from launch to ready' })
  startupMs: number | null;

  @ApiPropertyOptional({ nullable: true })
  lastReportAt: string | null;

  @ApiPropertyOptional({ nullable: true })
  connectedAt: string | null;

  @ApiPropertyOptional({ nullable: true, description: 'When the proxied viewer went away' })
  viewerLeftAt: string | null;

  @ApiPropertyOptional({ nullable: true })
  endedAt: string | null;

  @ApiPropertyOptional({ nullable: true, example: 0 })
  exitCode: number | null;

  @ApiPropertyOptional({ nullable: true, example: null })
  signal: string | null;

  @ApiPropertyOptional({
    nullable: true,
    example: 'the server reported disconnect after its viewer left, and exited (code 0)',
  })
  endReason: string | null;

  @ApiProperty({ description: 'Bytes the proxy carried from the viewer to the server' })
  bytesToServer: number;

  @ApiProperty({ description: 'Bytes the proxy carried from the server to the viewer' })
  bytesToViewer: number;
}

export class ErrorResponseDto {
  @ApiProperty({ example: 503 })
  statusCode: number;

  @ApiProperty({
    example: 'all 32 spawn slots are in use',
    oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
  })
  message: string | string[];

  @ApiPropertyOptional({ example: 'Service Unavailable' })
  error?: string;
}

export class LogLineDto {
  @ApiProperty({ example: '2026-11-25T08:00:00.050Z' })
  at: string;

  @ApiProperty({ enum: ['stdout', 'stderr'] })
  stream: 'stdout' | 'stderr';

  @ApiProperty({ example: '[sc-sim 3f1c2a4e-...] ready' })
  line: string;
}

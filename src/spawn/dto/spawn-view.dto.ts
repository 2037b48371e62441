import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { RENDERER_TYPES, type RendererType } from '@app/sc-protocol';
import { SPAWN_ORIGINS, type SpawnOrigin } from '../../supervisor';
import { SPAWN_STATES, type SpawnState } from '../../supervisor';

/** Where a client finds a spawn again, whichever node of a cluster it reaches: it never builds a per-node URL itself. */
export class SpawnLinksDto {
  @ApiProperty({
    example: 'https://viewers.example.com/n/node-a/spawns/3f1c2a4e-8d0b-4c53-9a7e-2b6f0d9e1c11',
    description: 'GET (view) and DELETE (stop) the spawn; absolute with PUBLIC_BASE_URL, else relative to this node',
  })
  self: string;

  @ApiProperty({ example: 'https://viewers.example.com/n/node-a/spawns/3f1c2a4e-8d0b-4c53-9a7e-2b6f0d9e1c11/events' })
  events: string;

  @ApiProperty({ example: 'https://viewers.example.com/n/node-a/spawns/3f1c2a4e-8d0b-4c53-9a7e-2b6f0d9e1c11/logs' })
  logs: string;

  @ApiProperty({
    example: 'wss://viewers.example.com/n/node-a/ws/3f1c2a4e-8d0b-4c53-9a7e-2b6f0d9e1c11',
    description: "The session's WebSocket through this node's proxy (always absolute)",
  })
  ws: string;
}

export class SpawnViewDto {
  @ApiProperty({ example: '3f1c2a4e-8d0b-4c53-9a7e-2b6f0d9e1c11' })
  id: string;

  @ApiProperty({ example: 'node-a', description: 'The node (NODE_NAME) that runs this spawn' })
  node: string;

  @ApiProperty({ type: SpawnLinksDto })
  links: SpawnLinksDto;

  @ApiProperty({ enum: SPAWN_STATES, example: 'ready' })
  state: SpawnState;

  @ApiProperty({ enum: RENDERER_TYPES, example: 'csr' })
  rendererType: RendererType;

  @ApiProperty({
    enum: SPAWN_ORIGINS,
    example: 'api',
    description:
      'How the session was asked for: POST /spawn (api), POST /api/spawn or /service (hoops-api), or a viewer WebSocket to the service port (connect)',
  })
  origin: SpawnOrigin;

  @ApiPropertyOptional({
    type: 'integer',
    example: 0,
    nullable: true,
    description: 'The GPU an SSR server renders on (--ssr-gpu-index); null: the default GPU, or CSR',
  })
  gpuIndex: number | null;

  @ApiProperty({ example: 11000 })
  wsPort: number;

  @ApiProperty({
    example: 'ws://viewer.example.com:11000',
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

  @ApiPropertyOptional({ type: String, example: 'microengine', nullable: true })
  model: string | null;

  @ApiProperty({ example: '2026-11-25T08:00:00.000Z' })
  startedAt: string;

  @ApiPropertyOptional({ type: String, example: '2026-11-25T08:00:00.090Z', nullable: true })
  readyAt: string | null;

  @ApiPropertyOptional({
    type: 'integer',
    example: 90,
    nullable: true,
    description: 'Milliseconds from launch to ready',
  })
  startupMs: number | null;

  @ApiPropertyOptional({ type: String, nullable: true, example: '2026-11-25T08:00:05.090Z' })
  lastReportAt: string | null;

  @ApiPropertyOptional({ type: String, nullable: true, example: '2026-11-25T08:00:01.000Z' })
  connectedAt: string | null;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    example: null,
    description: 'When the proxied viewer went away',
  })
  viewerLeftAt: string | null;

  @ApiPropertyOptional({ type: String, nullable: true, example: null })
  endedAt: string | null;

  @ApiPropertyOptional({ type: 'integer', nullable: true, example: null })
  exitCode: number | null;

  @ApiPropertyOptional({ type: String, nullable: true, example: null })
  signal: string | null;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    example: 'the server reported disconnect after its viewer left, and exited (code 0)',
  })
  endReason: string | null;

  @ApiProperty({ description: 'Bytes the proxy carried from the viewer to the server' })
  bytesToServer: number;

  @ApiProperty({ description: 'Bytes the proxy carried from the server to the viewer' })
  bytesToViewer: number;

  @ApiProperty({
    description: 'Started in advance for the warm pool (SC_WARM_POOL_CSR/SSR) rather than for this request',
  })
  warm: boolean;

  @ApiProperty({
    type: String,
    enum: ['warm', 'claimed', null],
    nullable: true,
    description: 'warm: waiting unclaimed in the pool; claimed: handed out to a request; null: started cold',
  })
  pool: 'warm' | 'claimed' | null;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    example: null,
    description: 'When a request claimed this warm server',
  })
  claimedAt: string | null;

  @ApiPropertyOptional({
    type: 'string',
    nullable: true,
    example: 'alice',
    description: 'The name of the API key that asked for this session (null: no key)',
  })
  key: string | null;

  @ApiProperty({
    description:
      'The relay carries this session (spawn on connect, PUBLIC_ENDPOINT=proxy, or a viewer joined at /ws/<token>): its activity is seen and SC_IDLE_TIMEOUT_S applies',
  })
  watched: boolean;

  @ApiPropertyOptional({
    type: 'string',
    nullable: true,
    description: 'When the viewer last sent a message through the relay',
  })
  lastActivityAt: string | null;

  @ApiProperty({
    description: 'Messages and payload bytes the relay carried each way (from frame headers only)',
    example: { toServer: { messages: 12, bytes: 3400 }, toViewer: { messages: 40, bytes: 1048576 } },
  })
  relay: { toServer: RelayCountDto; toViewer: RelayCountDto };

  @ApiPropertyOptional({
    type: 'number',
    nullable: true,
    example: 1.25,
    description: "CPU seconds used by the server's process group (read from /proc by the sweep)",
  })
  cpuSeconds: number | null;

  @ApiPropertyOptional({
    type: 'integer',
    nullable: true,
    example: 52428800,
    description: "Resident memory of the server's process group, in bytes (read from /proc by the sweep)",
  })
  rssBytes: number | null;

  @ApiPropertyOptional({
    type: 'integer',
    nullable: true,
    description: 'The lifetime limit this request asked for (maxSessionSeconds)',
  })
  maxSessionSeconds: number | null;

  @ApiPropertyOptional({
    type: 'object',
    nullable: true,
    properties: {
      reason: { type: 'string', enum: ['idle', 'lifetime'] },
      secondsLeft: { type: 'number' },
      at: { type: 'string', format: 'date-time' },
    },
    description: 'The warning given before a session limit ends the session: {reason: idle|lifetime, secondsLeft, at}',
  })
  expiring: { reason: 'idle' | 'lifetime'; secondsLeft: number; at: string } | null;
}

export interface RelayCountDto {
  messages: number;
  bytes: number;
}

export class LogLineDto {
  @ApiProperty({ example: '2026-11-25T08:00:00.050Z' })
  at: string;

  @ApiProperty({ enum: ['stdout', 'stderr'] })
  stream: 'stdout' | 'stderr';

  @ApiProperty({ example: '[sc-sim 3f1c2a4e-...] ready' })
  line: string;
}

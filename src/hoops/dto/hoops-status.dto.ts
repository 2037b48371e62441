import { ApiProperty, OmitType } from '@nestjs/swagger';
import { SPAWN_STATES, type SpawnState } from '../../supervisor';
import { HOOPS_STATES, type HoopsState } from '../hoops-states';
import { SpawnViewDto } from '../../spawn';

const STATE_COUNTS_EXAMPLE = Object.fromEntries(SPAWN_STATES.map((s) => [s, s === 'ready' ? 1 : 0]));

export class HoopsStatusConfigDto {
  @ApiProperty({ example: '/opt/ts3d/bin/ts3d_sc_server' }) executable: string;
  @ApiProperty({ example: false }) usingSimulator: boolean;
  @ApiProperty({ enum: ['key', 'file'], description: 'How the license is given (never the key or the file)' })
  license: string;
  @ApiProperty({ example: true }) csrEnabled: boolean;
  @ApiProperty({ example: true }) ssrEnabled: boolean;
  @ApiProperty({ example: 55000 }) spawnPortBase: number;
  @ApiProperty({ example: 64 }) spawnPortCount: number;
  @ApiProperty({ example: 32 }) maxSpawns: number;
  @ApiProperty({ type: [String], example: ['/srv/models'] }) modelSearchDirectories: string[];
  @ApiProperty({ example: 5 }) livelinessIntervalS: number;
  @ApiProperty({ example: 17 }) pingTimeoutS: number;
  @ApiProperty({ example: 30 }) readyTimeoutS: number;
  @ApiProperty({ example: 60 }) initialUseDurationS: number;
  @ApiProperty({ example: 5 }) killGraceS: number;
  @ApiProperty({ nullable: true, type: String, example: 'viewer.example.com' }) publicHostname: string | null;
  @ApiProperty({ enum: ['direct', 'proxy'], example: 'direct' }) publicEndpoint: string;
}

export class CpuPriorityDto {
  @ApiProperty({ enum: ['cgroup-v2', 'cgroup-v1', 'autogroup', 'nice', 'none'], example: 'cgroup-v1' })
  mechanism: string;
  @ApiProperty({
    example:
      'servers in the cgroup v1 cpu group /sys/fs/cgroup/cpu/sc-spawner-812 at cpu.shares 2, the service at 1024',
  })
  detail: string;
}

export class HoopsStatusDto {
  @ApiProperty({ example: 'ok' }) status: string;
  @ApiProperty({ example: '2026-11-29T19:00:00.000Z' }) timestamp: string;
  @ApiProperty({ example: 1 }) usedSpawnPorts: number;
  @ApiProperty({ example: 63 }) availableSpawnPorts: number;
  @ApiProperty({
    example: 0,
    description: 'Ports of the range held by another program when last probed (not available)',
  })
  busySpawnPorts: number;
  @ApiProperty({ example: 1 }) activeSpawns: number;
  @ApiProperty({ example: 32 }) maxSpawns: number;
  @ApiProperty({ example: false }) shuttingDown: boolean;
  @ApiProperty({ example: false, description: 'Draining (SIGTERM with DRAIN_TIMEOUT_S): no new session' })
  draining: boolean;
  @ApiProperty({ example: 'node-a', description: 'NODE_NAME' }) node: string;
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'integer' },
    example: STATE_COUNTS_EXAMPLE,
    description: 'Spawns per state (every state of the state table, 0 included)',
  })
  spawnsByState: Record<string, number>;
  @ApiProperty({ type: HoopsStatusConfigDto }) config: HoopsStatusConfigDto;
  @ApiProperty({ type: CpuPriorityDto, description: 'How the servers run below the service (docs/cpu-priority.md)' })
  cpuPriority: CpuPriorityDto;
  @ApiProperty({ example: 1, description: 'HOOPS state count (see README for the mapping from our states)' })
  launching: number;
  @ApiProperty({ example: 1 }) ready: number;
  @ApiProperty({ example: 0 }) suspect: number;
  @ApiProperty({ example: 0 }) disconnected: number;
  @ApiProperty({ example: 0, name: 'nice-killed' }) niceKilled: number;
  @ApiProperty({ example: 0 }) killed: number;
  @ApiProperty({ example: 0 }) zombie: number;
  @ApiProperty({ example: 3 }) dead: number;
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'integer' },
    example: { '0': 2, '1': 1 },
    description: 'Live SSR sessions per GPU index',
  })
  gpuAllocation: Record<string, number>;
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'integer' },
    example: { rss: 81264640, heapTotal: 30015488, heapUsed: 24002112, external: 2234567, arrayBuffers: 100000 },
    description: "This service's process.memoryUsage()",
  })
  memory: Record<string, number>;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    example: { csr: 2, ssr: 0, target: { csr: 2, ssr: 0 }, starting: { csr: 0, ssr: 0 }, failing: null, retryAt: null },
    description: 'The warm pool: ready unclaimed servers per renderer, targets, and why refills fail (if they do)',
  })
  warm: Record<string, unknown>;
}

export class HoopsCommandDto {
  @ApiProperty({ example: 'GET' }) method: string;
  @ApiProperty({ example: '/api/status' }) path: string;
  @ApiProperty({ example: 'Status of the spawner: counts per HOOPS state, ports, GPUs, memory' }) description: string;
}

export class HoopsHelpDto {
  @ApiProperty({ type: [HoopsCommandDto] }) commands: HoopsCommandDto[];
}

export class HoopsSpawnListItemDto extends OmitType(SpawnViewDto, ['state'] as const) {
  @ApiProperty({ enum: HOOPS_STATES, example: 'ready', description: "The HOOPS Server's state name" })
  state: HoopsState;
  @ApiProperty({
    enum: SPAWN_STATES,
    example: 'connected',
    description: "This service's own state (state of GET /spawns)",
  })
  spawnState: SpawnState;
  @ApiProperty({ example: '2026-11-29T19:00:00.000Z', description: 'HOOPS name for startedAt' })
  spawnTime: string;
  @ApiProperty({ example: '2026-11-29T19:00:05.000Z', description: 'Last state change or liveliness report' })
  lastUpdateTime: string;
}

export class HoopsSpawnListDto {
  @ApiProperty({ example: '2026-11-29T19:00:06.000Z' }) timestamp: string;
  @ApiProperty({ type: [HoopsSpawnListItemDto] }) spawns: HoopsSpawnListItemDto[];
}

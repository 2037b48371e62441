import { ApiProperty } from '@nestjs/swagger';
import { SPAWN_STATES } from '../../supervisor/spawn-state';
import { SpawnViewDto } from '../../spawn/dto/spawn-view.dto';

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

export class HoopsStatusDto {
  @ApiProperty({ example: 'ok' }) status: string;
  @ApiProperty({ example: '2026-11-29T19:00:00.000Z' }) timestamp: string;
  @ApiProperty({ example: 1 }) usedSpawnPorts: number;
  @ApiProperty({ example: 63 }) availableSpawnPorts: number;
  @ApiProperty({ example: 1 }) activeSpawns: number;
  @ApiProperty({ example: 32 }) maxSpawns: number;
  @ApiProperty({ example: false }) shuttingDown: boolean;
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'integer' },
    example: STATE_COUNTS_EXAMPLE,
    description: 'Spawns per state (every state of the state table, 0 included)',
  })
  spawnsByState: Record<string, number>;
  @ApiProperty({ type: HoopsStatusConfigDto }) config: HoopsStatusConfigDto;
}

export class HoopsSpawnListItemDto extends SpawnViewDto {
  @ApiProperty({ example: '2026-11-29T19:00:00.000Z', description: 'HOOPS name for startedAt' })
  spawnTime: string;
  @ApiProperty({ example: '2026-11-29T19:00:05.000Z', description: 'Last state change or liveliness report' })
  lastUpdateTime: string;
}

export class HoopsSpawnListDto {
  @ApiProperty({ example: '2026-11-29T19:00:06.000Z' }) timestamp: string;
  @ApiProperty({ type: [HoopsSpawnListItemDto] }) spawns: HoopsSpawnListItemDto[];
}

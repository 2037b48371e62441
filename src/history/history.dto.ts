import { ApiProperty } from '@nestjs/swagger';
import type { HistoryMinute, HistorySnapshot } from './history-window';

export class StartupPercentilesDto {
  @ApiProperty({ example: 3, description: 'servers that became ready in the minute' })
  count: number;
  @ApiProperty({ example: 180 })
  p50: number;
  @ApiProperty({ example: 240 })
  p90: number;
  @ApiProperty({ example: 260 })
  p99: number;
  @ApiProperty({ example: 260 })
  max: number;
}

export class HistoryMinuteDto implements HistoryMinute {
  @ApiProperty({ example: '2026-12-04T10:00:00.000Z', description: "the minute's start" })
  at: string;
  @ApiProperty({ example: 2, description: 'most sessions live at once in the minute (warm servers not counted)' })
  sessionsLive: number;
  @ApiProperty({
    type: StartupPercentilesDto,
    nullable: true,
    description: 'start-up times in ms (nearest rank); null when no server became ready in the minute',
  })
  startupMs: StartupPercentilesDto | null;
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'integer' },
    example: { capacity: 2 },
    description: 'refused spawn requests by reason (as sc_spawner_spawn_rejections_total)',
  })
  rejections: Record<string, number>;
}

export class HistoryDto implements HistorySnapshot {
  @ApiProperty({ example: 60 })
  minuteSeconds: number;
  @ApiProperty({ example: 60 })
  windowMinutes: number;
  @ApiProperty({ type: [HistoryMinuteDto], description: 'oldest first, one per minute since start, at most an hour' })
  minutes: HistoryMinuteDto[];
}

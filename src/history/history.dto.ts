import { ApiProperty } from '@nestjs/swagger';
import type { HistoryMinute, HistorySnapshot } from './history-window';

export class HistoryMinuteDto implements HistoryMinute {
  @ApiProperty({ example: '2026-12-04T10:00:00.000Z', description: "the minute's start" })
  at: string;
  @ApiProperty({
    type: 'integer',
    example: 2,
    description: 'most sessions live at once in the minute (warm servers not counted)',
  })
  sessionsLive: number;
  @ApiProperty({
    type: 'object',
    properties: {
      count: { type: 'integer', description: 'servers that became ready in the minute' },
      p50: { type: 'integer' },
      p90: { type: 'integer' },
      p99: { type: 'integer' },
      max: { type: 'integer' },
    },
    required: ['count', 'p50', 'p90', 'p99', 'max'],
    example: { count: 3, p50: 180, p90: 240, p99: 260, max: 260 },
    nullable: true,
    description: 'start-up times in ms (nearest rank); null when no server became ready in the minute',
  })
  startupMs: HistoryMinute['startupMs'];
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

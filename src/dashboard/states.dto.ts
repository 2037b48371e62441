import { ApiProperty } from '@nestjs/swagger';
import { SPAWN_STATES, type SpawnState } from '../supervisor';

export class SpawnStateDto {
  @ApiProperty({ enum: SPAWN_STATES, example: 'timed_out' })
  name: SpawnState;
  @ApiProperty({ example: 'Timed out', description: 'how a person reads it' })
  label: string;
  @ApiProperty({ example: false, description: 'the process has ended; the state never changes again' })
  terminal: boolean;
  @ApiProperty({
    type: 'integer',
    example: 3,
    description: 'how far along its life: transitions never go to a lower rank, but connected -> ready',
  })
  rank: number;
}

export class SpawnStatesDto {
  @ApiProperty({ type: [SpawnStateDto], description: 'every state a spawned server can be in, in life order' })
  states: SpawnStateDto[];
}

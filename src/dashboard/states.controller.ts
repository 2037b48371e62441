import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '../auth';
import { isTerminal, SPAWN_STATE_LABELS, SPAWN_STATE_RANK, SPAWN_STATES } from '../supervisor';
import { SpawnStatesDto } from './states.dto';

/** The supervisor's state list for the dashboard, so the page keeps no copy. Public: it describes the API, not data. */
@ApiTags('dashboard')
@Public()
@Controller('api/states')
export class StatesController {
  private readonly body: SpawnStatesDto = {
    states: SPAWN_STATES.map((name) => ({
      name,
      label: SPAWN_STATE_LABELS[name],
      terminal: isTerminal(name),
      rank: SPAWN_STATE_RANK[name],
    })),
  };

  @Get()
  @ApiOperation({ summary: 'Every spawn state with its label, whether it is terminal, and its rank (life order)' })
  @ApiOkResponse({ type: SpawnStatesDto })
  states(): SpawnStatesDto {
    return this.body;
  }
}

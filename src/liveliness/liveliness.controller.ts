import { BadRequestException, Controller, HttpCode, NotFoundException, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBadRequestResponse, ApiForbiddenResponse, ApiNoContentResponse, ApiNotFoundResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { isLiveliness, LIVELINESS_VALUES } from '@app/sc-protocol';
import { SupervisorService } from '../supervisor/supervisor.service';
import { LocalReporterGuard } from './local-reporter.guard';

/** Receives the reports Stream Cache Servers POST to `--liveliness-endpoint`. */
@ApiTags('liveliness')
@Controller('liveliness')
export class LivelinessController {
  constructor(private readonly supervisor: SupervisorService) {}

  @Post(':id')
  @HttpCode(204)
  @UseGuards(LocalReporterGuard)
  @ApiForbiddenResponse({ description: 'The report did not come from this machine' })
  @ApiOperation({ summary: 'Liveliness report from a Stream Cache Server (called by the server, not by viewers)' })
  @ApiQuery({ name: 'liveliness', enum: LIVELINESS_VALUES })
  @ApiNoContentResponse({ description: 'Report recorded' })
  @ApiBadRequestResponse({ description: 'Missing or invalid liveliness value; nothing changes' })
  @ApiNotFoundResponse({ description: 'No spawn has this id' })
  report(@Param('id') id: string, @Query('liveliness') liveliness: unknown): void {
    receiveReport(this.supervisor, id, liveliness);
  }
}

/** Shared by /liveliness/:id and the HOOPS Server's /api/spawns/:id. */
export function receiveReport(supervisor: SupervisorService, id: string, liveliness: unknown): void {
  if (!isLiveliness(liveliness)) {
    throw new BadRequestException(`liveliness must be one of ${LIVELINESS_VALUES.join(', ')}, got ${JSON.stringify(liveliness ?? null)}`);
  }
  if (supervisor.report(id, liveliness) === 'unknown') throw new NotFoundException(`no spawn with id ${id}`);
}

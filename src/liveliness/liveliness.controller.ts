import { Controller, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiForbiddenResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOperation,
  ApiQuery,
  ApiTags,
} from '@nestjs/swagger';
import { type Liveliness, LIVELINESS_VALUES } from '@app/sc-protocol';
import { Public } from '../auth';
import { SpawnerMetrics } from '../metrics';
import { ErrorResponseDto } from '../http';
import { SupervisorService } from '../supervisor';
import { LivelinessValuePipe } from './liveliness-value.pipe';
import { LocalReporterGuard } from './local-reporter.guard';
import { ServerReporterGuard } from './server-reporter.guard';

/**
 * Receives the reports Stream Cache Servers POST to `--liveliness-endpoint`: at this service's own path
 * (`/liveliness/:id`) and at the HOOPS Server's (`/api/spawns/:id`), with the same rules.
 */
@ApiTags('liveliness')
@Public()
@Controller()
export class LivelinessController {
  constructor(
    private readonly supervisor: SupervisorService,
    private readonly metrics: SpawnerMetrics,
  ) {}

  @Post(['liveliness/:id', 'api/spawns/:id'])
  @HttpCode(204)
  @UseGuards(LocalReporterGuard, ServerReporterGuard)
  @ApiForbiddenResponse({
    type: ErrorResponseDto,
    description: "The report did not come from this machine, or not from the server's own processes",
  })
  @ApiOperation({
    summary:
      'Liveliness report from a Stream Cache Server (called by the server, not by viewers); /api/spawns/:id is the HOOPS Server path',
  })
  @ApiQuery({ name: 'liveliness', enum: LIVELINESS_VALUES })
  @ApiNoContentResponse({ description: 'Report recorded' })
  @ApiBadRequestResponse({
    type: ErrorResponseDto,
    description: 'Missing or invalid liveliness value; nothing changes',
  })
  @ApiNotFoundResponse({ type: ErrorResponseDto, description: 'No spawn has this id' })
  async report(
    @Param('id') id: string,
    @Query('liveliness', LivelinessValuePipe) liveliness: Liveliness,
  ): Promise<void> {
    this.metrics.livelinessReports.inc({ value: liveliness });
    this.supervisor.report(id, liveliness);
    // `ready` wakes the POST /spawn waiting for it. That answer (a person waits for it) is written in this same turn
    // of the event loop; this 204 and its access line go in the next (a server needs an answer, not a fast one).
    if (liveliness === 'ready') await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

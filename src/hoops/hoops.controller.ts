import { Body, Controller, Get, HttpCode, Param, Post, Query, Req, Res, UseFilters, UseGuards } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiForbiddenResponse,
  ApiGatewayTimeoutResponse,
  ApiInternalServerErrorResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiQuery,
  ApiServiceUnavailableResponse,
  ApiNotFoundResponse,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { type Liveliness, LIVELINESS_VALUES } from '@app/sc-protocol';
import { Public, SpawnAccess } from '../auth/route-access';
import { abortOnClientGone } from '../http/abort-on-client-gone';
import { RETRY_AFTER_HEADER } from '../http/openapi';
import { SpawnRateLimitGuard } from '../rate-limit/spawn-rate-limit.guard';
import { LivelinessValuePipe } from '../liveliness/liveliness-value.pipe';
import { LocalReporterGuard } from '../liveliness/local-reporter.guard';
import { ErrorResponseDto } from '../spawn/dto/spawn-view.dto';
import { SpawnPresenter } from '../spawn/spawn-presenter';
import { SpawnerMetrics } from '../metrics/spawner-metrics';
import { SupervisorService } from '../supervisor/supervisor.service';
import { HoopsFailureDto, HoopsSpawnDto, HoopsSpawnOkDto } from './dto/hoops-spawn.dto';
import { HoopsSpawnListDto, HoopsStatusDto } from './dto/hoops-status.dto';
import { HoopsErrorFilter } from './hoops-error.filter';
import { HoopsSpawnBodyPipe } from './hoops-spawn-body.pipe';
import { HoopsStatusService } from './hoops-status.service';
import { ModelDirectoryPolicy } from './model-directories';

/** The shipping HOOPS Server's spawning API, so existing viewer applications work unchanged. */
@ApiTags('hoops-server-api')
@Controller()
export class HoopsController {
  constructor(
    private readonly supervisor: SupervisorService,
    private readonly presenter: SpawnPresenter,
    private readonly modelDirectories: ModelDirectoryPolicy,
    private readonly status: HoopsStatusService,
    private readonly metrics: SpawnerMetrics,
  ) {}

  @Post(['api/spawn', 'service'])
  @HttpCode(200)
  @UseFilters(HoopsErrorFilter)
  @SpawnAccess()
  @UseGuards(SpawnRateLimitGuard)
  @ApiOperation({ summary: 'HOOPS Server API: start a session (also at the legacy POST /service); answers once ready' })
  @ApiBody({ type: HoopsSpawnDto, required: false })
  @ApiOkResponse({ type: HoopsSpawnOkDto })
  @ApiBadRequestResponse({ type: HoopsFailureDto, description: 'Unknown class or malformed params' })
  @ApiForbiddenResponse({ type: HoopsFailureDto, description: 'That rendering mode is disabled' })
  @ApiInternalServerErrorResponse({
    type: HoopsFailureDto,
    description: 'The server failed to start (exit code and its meaning)',
  })
  @ApiServiceUnavailableResponse({
    headers: RETRY_AFTER_HEADER,
    type: HoopsFailureDto,
    description: 'No free slot or port, or shutting down (Retry-After)',
  })
  @ApiGatewayTimeoutResponse({ type: HoopsFailureDto, description: 'The server was not ready in time and was stopped' })
  @ApiTooManyRequestsResponse({
    headers: RETRY_AFTER_HEADER,
    type: HoopsFailureDto,
    description: 'SPAWN_RATE_LIMIT reached for this client (Retry-After)',
  })
  @ApiUnauthorizedResponse({ type: HoopsFailureDto, description: 'SPAWN_AUTH=required and no valid API key' })
  async spawn(
    // Readonly<>: no class as the parameter's type, so the global ValidationPipe leaves this body to HoopsSpawnBodyPipe.
    @Body(HoopsSpawnBodyPipe) body: Readonly<HoopsSpawnDto>,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ): Promise<HoopsSpawnOkDto> {
    const clientGone = abortOnClientGone(response);
    const params = body.params ?? {};
    const rendererType = body.class === 'ssr_session' ? 'ssr' : 'csr';
    const extraModelDirs = await this.modelDirectories.resolve(params.modelSearchDirectories);
    const spawn = await this.supervisor.spawn(
      { rendererType, model: params.model, sessionToken: params.sessionToken, extraModelDirs },
      clientGone,
    );
    return {
      result: 'ok',
      serviceId: spawn.id,
      endpoints: { ws: this.presenter.endpointsOf(spawn, request).advertised },
    };
  }

  @Get('api/status')
  @ApiOperation({ summary: 'HOOPS Server API: counts of ports and spawns per state, and the non-secret configuration' })
  @ApiOkResponse({ type: HoopsStatusDto })
  getStatus(): HoopsStatusDto {
    return this.status.status();
  }

  @Get('api/spawns')
  @ApiOperation({ summary: 'HOOPS Server API: every spawn with its state, spawn time and last update time' })
  @ApiOkResponse({ type: HoopsSpawnListDto })
  listSpawns(@Req() request: Request): HoopsSpawnListDto {
    return {
      timestamp: new Date().toISOString(),
      spawns: this.supervisor.list().map((spawn) => {
        const view = this.presenter.toView(spawn, request);
        return {
          ...view,
          spawnTime: view.startedAt,
          lastUpdateTime: new Date(Math.max(spawn.stateChangedAt, spawn.lastReportAt ?? 0)).toISOString(),
        };
      }),
    };
  }

  @Post('api/spawns/:id')
  @HttpCode(204)
  @Public()
  @UseGuards(LocalReporterGuard)
  @ApiOperation({ summary: 'HOOPS Server API: liveliness report from a server (same rules as /liveliness/:id)' })
  @ApiQuery({ name: 'liveliness', enum: LIVELINESS_VALUES })
  @ApiNoContentResponse({ description: 'Report recorded' })
  @ApiBadRequestResponse({
    type: ErrorResponseDto,
    description: 'Missing or invalid liveliness value; nothing changes',
  })
  @ApiForbiddenResponse({ type: ErrorResponseDto, description: 'The report did not come from this machine' })
  @ApiNotFoundResponse({ type: ErrorResponseDto, description: 'No spawn has this id' })
  report(@Param('id') id: string, @Query('liveliness', LivelinessValuePipe) liveliness: Liveliness): void {
    this.metrics.livelinessReports.inc({ value: liveliness });
    this.supervisor.report(id, liveliness);
  }
}

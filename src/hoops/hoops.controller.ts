import { Body, Controller, Get, HttpCode, Post, Query, Req, Res, UseFilters, UseGuards } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiForbiddenResponse,
  ApiGatewayTimeoutResponse,
  ApiInternalServerErrorResponse,
  ApiOkResponse,
  ApiOperation,
  ApiQuery,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { ApiKeys, bearerKey, sessionOwner, SpawnAccess } from '../auth';
import { abortOnClientGone, AcceptsJsonAsText, RETRY_AFTER_HEADER, whenAnswerLost } from '../http';
import { SpawnRateLimitGuard } from '../rate-limit';
import { SpawnPresenter } from '../spawn';
import { isTerminal } from '../supervisor';
import { SpawnerMetrics } from '../metrics';
import { SupervisorService } from '../supervisor';
import { HoopsFailureDto, HoopsSpawnDto, HoopsSpawnOkDto } from './dto/hoops-spawn.dto';
import { HoopsSpawnListDto, HoopsHelpDto, HoopsStatusDto } from './dto/hoops-status.dto';
import { HoopsErrorFilter } from './hoops-error.filter';
import { HoopsSpawnBodyPipe } from './hoops-spawn-body.pipe';
import { HoopsStatusService } from './hoops-status.service';
import { HOOPS_COMMANDS } from './hoops-commands';
import { ModelDirectoryPolicy } from './model-directories';

/** `?pretty=true`: the body as indented JSON text (as the HOOPS Server offers); otherwise the object, as usual. */
function prettyIfAsked<T>(body: T, pretty: string | undefined, response: Response): T | string {
  if (pretty !== 'true') return body;
  response.type('application/json');
  return `${JSON.stringify(body, null, 2)}\n`;
}

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
    private readonly keys: ApiKeys,
  ) {}

  @Post(['api/spawn', 'service'])
  @HttpCode(200)
  @UseFilters(HoopsErrorFilter)
  @AcceptsJsonAsText()
  @SpawnAccess()
  @UseGuards(SpawnRateLimitGuard)
  @ApiOperation({ summary: 'HOOPS Server API: start a session (also at the legacy POST /service); answers once ready' })
  @ApiBody({ type: HoopsSpawnDto, required: false })
  @ApiOkResponse({ type: HoopsSpawnOkDto })
  @ApiBadRequestResponse({
    type: HoopsFailureDto,
    description: 'Unknown class, malformed params, or a body past a limit (nesting, keys in an object)',
  })
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
      {
        rendererType,
        model: params.model,
        sessionToken: params.sessionToken,
        extraModelDirs,
        origin: 'hoops-api',
        owner: sessionOwner(this.keys, bearerKey(request.headers.authorization), request.ip),
      },
      clientGone,
    );
    // Its client never read the answer, the one place its id went: nobody else could use or stop the session.
    whenAnswerLost(clientGone, () => {
      if (this.supervisor.get(spawn.id))
        this.supervisor.stop(spawn.id, 'its client went away before the answer reached it');
    });
    return {
      result: 'ok',
      serviceId: spawn.id,
      endpoints: { ws: this.presenter.endpointsOf(spawn, request).advertised },
      // Only on a claim, so a cold answer keeps the HOOPS Server's exact shape.
      ...(spawn.spec.warm ? { warm: true as const } : {}),
      node: this.presenter.node,
      links: this.presenter.linksOf(spawn, request),
    };
  }

  @Get('api/status')
  @ApiOperation({
    summary:
      'HOOPS Server API: one count per HOOPS spawn state, ports, GPU allocation, memory and the non-secret configuration',
  })
  @ApiQuery({ name: 'pretty', required: false, description: '`true`: indented JSON' })
  @ApiOkResponse({ type: HoopsStatusDto })
  getStatus(@Query('pretty') pretty: string | undefined, @Res({ passthrough: true }) response: Response) {
    return prettyIfAsked(this.status.status(), pretty, response);
  }

  @Get('api/help')
  @ApiOperation({ summary: 'HOOPS Server API: the commands this service answers' })
  @ApiQuery({ name: 'pretty', required: false, description: '`true`: indented JSON' })
  @ApiOkResponse({ type: HoopsHelpDto })
  help(@Query('pretty') pretty: string | undefined, @Res({ passthrough: true }) response: Response) {
    return prettyIfAsked({ commands: HOOPS_COMMANDS }, pretty, response);
  }

  @Get('api/spawns')
  @ApiOperation({
    summary: 'HOOPS Server API: the live spawns (ended ones dropped) with state, spawn time and last update time',
  })
  @ApiQuery({ name: 'pretty', required: false, description: '`true`: indented JSON' })
  @ApiOkResponse({ type: HoopsSpawnListDto })
  listSpawns(
    @Req() request: Request,
    @Query('pretty') pretty: string | undefined,
    @Res({ passthrough: true }) response: Response,
  ) {
    const live = this.supervisor.list().filter((spawn) => !isTerminal(spawn.state));
    const body: HoopsSpawnListDto = {
      timestamp: new Date().toISOString(),
      spawns: live.map((spawn) => {
        const view = this.presenter.toView(spawn, request);
        return {
          ...view,
          // The HOOPS Server's state name (as /api/status counts it); ours stays beside it.
          state: this.status.stateOf(spawn),
          spawnState: view.state,
          spawnTime: view.startedAt,
          lastUpdateTime: this.presenter.iso(Math.max(spawn.stateChangedAt, spawn.lastReportAt ?? 0))!,
        };
      }),
    };
    return prettyIfAsked(body, pretty, response);
  }
}
